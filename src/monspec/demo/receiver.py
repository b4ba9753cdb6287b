"""A local notification receiver: the PagerDuty, Slack, webhook and e-mail endpoints of the
demo's Alertmanager, on loopback, logging each notification instead of delivering it.

Every notification becomes one JSON line in the log (``kind``, ``receiver``, ``summary``,
``body``) and one readable line on stdout, so `tail -f` shows what on-call would have got.
Run as ``python -m monspec.demo.receiver --http-port P --smtp-port S --log FILE``.
"""
from __future__ import annotations

import json
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click


def summarise(kind: str, body: Any) -> str:
    """One readable line: what the notification says and whether it fires or resolves."""
    if kind == "pagerduty" and isinstance(body, dict):
        payload = body.get("payload") or {}
        return f"{body.get('event_action')}: {payload.get('summary', '')}"
    if kind == "slack" and isinstance(body, dict):
        attachments = body.get("attachments") or [{}]
        return str(attachments[0].get("title", ""))
    if kind == "webhook" and isinstance(body, dict):
        names = sorted({a["labels"].get("alertname", "") for a in body.get("alerts", [])})
        return f"{body.get('status')}: {', '.join(names)}"
    if kind == "email" and isinstance(body, dict):
        subject = next((line[9:] for line in str(body.get("data", "")).splitlines() if line.startswith("Subject: ")), "")
        return f"to {', '.join(body.get('to', []))}: {subject}"
    return str(body)[:200]


class NotificationLog:
    """Appends notifications to a JSON-lines file and echoes a readable line."""

    def __init__(self, path: Path, echo=print):
        self.path = path
        self.echo = echo
        self._lock = threading.Lock()

    def add(self, kind: str, receiver: str, body: Any, headers: dict[str, str] | None = None) -> None:
        entry = {"time": round(time.time(), 3), "kind": kind, "receiver": receiver,
                 "summary": summarise(kind, body), "headers": headers or {}, "body": body}
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")
        self.echo(f"{time.strftime('%H:%M:%S')} {kind:9} {receiver:16} {entry['summary']}")


def read_log(path: Path) -> list[dict]:
    """Every notification logged so far (a half-written last line is left for the next read)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            break
    return out


def http_server(log: NotificationLog, port: int) -> ThreadingHTTPServer:
    """POST /<kind>/<receiver>: PagerDuty answers 202 as its Events API does, the others 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw
            _, kind, receiver = (self.path.split("/", 2) + ["", ""])[:3]
            log.add(kind, receiver, body, dict(self.headers))
            self.send_response(202 if kind == "pagerduty" else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status":"success","message":"Event processed"}')

        def do_GET(self):  # noqa: N802 -- readiness probe
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def smtp_server(log: NotificationLog, port: int) -> socketserver.ThreadingTCPServer:
    """A minimal SMTP sink (no TLS, no auth): each message is logged as kind `email`."""

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, text: str) -> None:
            self.wfile.write((text + "\r\n").encode())

        def handle(self):
            self.reply("220 monspec-demo ESMTP")
            envelope: dict[str, Any] = {"from": None, "to": [], "data": ""}
            while True:
                line = self.rfile.readline().decode("utf-8", "replace")
                if not line:
                    return
                verb = line.strip().split(" ", 1)[0].upper()
                if verb == "MAIL":
                    envelope["from"] = line.strip()[10:].strip("<>")
                elif verb == "RCPT":
                    envelope["to"].append(line.strip()[8:].strip("<>"))
                elif verb == "DATA":
                    self.reply("354 go ahead")
                    data = []
                    while (chunk := self.rfile.readline().decode("utf-8", "replace")) not in (".\r\n", ".\n", ""):
                        data.append(chunk)
                    envelope["data"] = "".join(data)
                    # The receiver's name is not in the mail; the address says who it was for.
                    log.add("email", ",".join(envelope["to"]), dict(envelope))
                    envelope = {"from": None, "to": [], "data": ""}
                    self.reply("250 queued")
                    continue
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                self.reply("250 OK")

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    return Server(("127.0.0.1", port), Handler)


@click.command()
@click.option("--http-port", type=int, required=True)
@click.option("--smtp-port", type=int, required=True)
@click.option("--log", "log_path", type=click.Path(path_type=Path, dir_okay=False), required=True)
def main(http_port: int, smtp_port: int, log_path: Path) -> None:
    log = NotificationLog(log_path, echo=lambda line: print(line, flush=True))
    smtp = smtp_server(log, smtp_port)
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    print(f"logging notifications to {log_path} (http :{http_port}, smtp :{smtp_port})", flush=True)
    try:
        http_server(log, http_port).serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
