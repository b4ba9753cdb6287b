"""The demo's notification receiver (monspec.demo.receiver) run in-process, for suites that
assemble their own stack: PagerDuty, Slack and webhook posts on `url`, e-mail on `smtp_port`."""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from monspec.demo.receiver import NotificationLog, http_server, read_log, smtp_server


class CaptureServer:
    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="capture-")
        self.log_path = Path(self._folder.name) / "notifications.jsonl"
        log = NotificationLog(self.log_path, echo=lambda _line: None)
        self.http = http_server(log, 0)
        self.smtp = smtp_server(log, 0)
        self.port = self.http.server_address[1]
        self.smtp_port = self.smtp.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> CaptureServer:
        for server in (self.http, self.smtp):
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()  # quick shutdown()
        return self

    def __exit__(self, *exc) -> None:
        for server in (self.http, self.smtp):
            server.shutdown()
            server.server_close()
        self._folder.cleanup()

    def received(self) -> list[dict]:
        """Every notification so far: kind, receiver, summary, headers, body."""
        return read_log(self.log_path)
