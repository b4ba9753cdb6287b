"""The HTTP endpoint of a running cache: ``GET /metrics`` for Prometheus and ``/fault`` for the
fault switch (see :mod:`unified_cache.faults`), on loopback.

Built to survive scrapers and bursts: one thread per connection, a listen backlog of 1024
(socketserver's default of 5 drops connections in a burst, which clients see as seconds of
SYN retries), HTTP/1.0 so every response closes its connection, and an idle timeout so a
client that connects and sends nothing does not hold a thread.
"""
from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .faults import parse_settings

IDLE_TIMEOUT = 5.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


class CacheServer:
    """Serve ``registry`` and the fault switch of ``manager`` (whose loop is ``loop``)."""

    def __init__(self, registry: CollectorRegistry, manager, loop: asyncio.AbstractEventLoop, port: int = 0,
                 idle_timeout: float = IDLE_TIMEOUT) -> None:
        outer = self
        self.manager, self.loop = manager, loop

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            timeout = idle_timeout

            def do_GET(self):  # noqa: N802 (http.server's naming)
                path = urlsplit(self.path).path
                if path == "/metrics":
                    self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif path == "/fault":
                    self._reply_json(200, outer.call(outer.fault_state))
                else:
                    self._reply(404, b"not found: try /metrics or /fault\n", "text/plain")

            def do_POST(self):  # noqa: N802
                split = urlsplit(self.path)
                if split.path != "/fault":
                    self._reply(404, b"not found: POST /fault?errors=0.2\n", "text/plain")
                    return
                pairs = [f"{k}={v}" if v else k for k, v in parse_qsl(split.query, keep_blank_values=True)]
                try:
                    settings = parse_settings(pairs)
                except ValueError as exc:
                    self._reply_json(400, {"error": str(exc)})
                    return
                self._reply_json(200, outer.call(lambda: outer.apply(settings)))

            def _reply_json(self, status: int, body: dict) -> None:
                self._reply(status, (json.dumps(body, sort_keys=True) + "\n").encode(), "application/json")

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = _Server(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="ucm-http", daemon=True)

    def start(self) -> CacheServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def call(self, fn: Callable[[], dict]) -> dict:
        """Run ``fn`` on the manager's event loop (L1 is not thread-safe) and return its result."""
        done: Future = Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except Exception as exc:  # reported to the HTTP client, never kills the loop
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return done.result(timeout=10)

    def fault_state(self) -> dict:
        return {**self.manager.faults.as_dict(), "l1_size": self.manager.l1.max_size}

    def apply(self, settings: dict) -> dict:
        self.manager.faults.set(settings.get("errors"), settings.get("l1_delay_ms"), settings.get("db_errors"))
        if "l1_size" in settings:
            size = settings["l1_size"] or self.manager.config.l1_cache_size
            self.manager.l1.resize(max_size=int(size))
        return self.fault_state()
