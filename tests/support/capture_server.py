"""A loopback HTTP server that records every POST, standing in for PagerDuty, Slack and webhooks."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Captured:
    path: str
    headers: dict[str, str]
    body: object  # parsed JSON, or the raw text


class CaptureServer:
    def __init__(self):
        self.requests: list[Captured] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                with outer._lock:
                    outer.requests.append(Captured(self.path, dict(self.headers), body))
                # PagerDuty's Events API answers 202, Slack and webhooks 200.
                self.send_response(202 if self.path.startswith("/pagerduty") else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status":"success","message":"Event processed"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "CaptureServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self, path_prefix: str) -> list[Captured]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]
