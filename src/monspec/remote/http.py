"""HTTP requests to running systems (Grafana, Prometheus) that cannot hang, leak or flood.

urllib bounds each socket operation, not the request: a server that trickles one byte every
few seconds holds it forever. It also follows redirects with every header, a token included,
to any host. Here each request has one total deadline (connect, send, headers and body), no
redirect is followed, the answer is bounded in size, and every failure is one line that names
no secret.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass

MAX_ANSWER_BYTES = 64 * 1024 * 1024


class WebError(Exception):
    """The request failed; str() is one line for a person, without the URL's secrets."""


class Redirected(WebError):
    """The server answered with a redirect, which monspec never follows."""

    def __init__(self, status: int, location: str):
        self.status, self.location = status, location
        super().__init__(f"answered {status} with a redirect to {location}")


@dataclass
class Answer:
    status: int
    reason: str
    body: bytes


def check_url(url: str, option: str, example: str, *, insecure: bool = False) -> str:
    """The base URL without a trailing slash; WebError when it is not http(s) with a host, carries
    credentials, or is plain http to a host other than this machine without `insecure`."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebError(f"{option} must be an http(s) URL such as {example}, got {_shown(url)!r}")
    if parts.username is not None or parts.password is not None:
        raise WebError(f"{option} carries credentials: remove them from the URL (a token is passed separately)")
    if parts.scheme == "http" and not insecure and not _loopback(parts.hostname):
        raise WebError(f"{option} is plain http to {parts.hostname}, where anyone on the way can read the traffic: "
                       "use https, or pass --insecure")
    return url.rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shown(url: str) -> str:
    """A URL as it may be printed: scheme, host and path only (no credentials, no query)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if _port(parts) else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else url[:80]


def _port(parts: urllib.parse.SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def request(url: str, method: str = "GET", *, headers: dict[str, str] | None = None, body: bytes | None = None,
            timeout: float = 30.0) -> Answer:
    """One HTTP exchange finished within `timeout` seconds in all; a 3xx raises Redirected."""
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname or "", _port(parts)
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    expired = threading.Event()

    def cut() -> None:  # unblocks whatever read or write is waiting when the deadline passes
        expired.set()
        if conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(timeout, cut)
    timer.daemon = True
    timer.start()
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        chunks, size = [], 0
        while chunk := response.read(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise WebError(f"answered with more than {MAX_ANSWER_BYTES // 2**20} MiB")
        data = b"".join(chunks)
        if expired.is_set():
            raise WebError(f"no complete answer within {timeout:g}s")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise WebError(f"no complete answer within {timeout:g}s" if expired.is_set() else _reason(exc)) from None
    finally:
        timer.cancel()
        conn.close()
    if 300 <= response.status < 400:
        raise Redirected(response.status, _shown(urllib.parse.urljoin(url, response.getheader("Location") or "")))
    return Answer(response.status, response.reason, data)


def one_line(text: object, limit: int = 200) -> str:
    """Text from a server as one short printable line (it may hold anything, newlines and escapes too)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "it closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return "its answer is not valid HTTP"
    if isinstance(exc, ValueError):
        return "the request could not be sent (an invalid header?)"
    return str(getattr(exc, "strerror", None) or exc.__class__.__name__)
