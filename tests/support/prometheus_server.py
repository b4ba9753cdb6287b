"""Real Prometheus and Alertmanager processes on free loopback ports, with their HTTP APIs."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

from monspec.demo.processes import http_ok

from .processes import ManagedProcess, free_port, require_program


def http_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


class _ServedProgram:
    """A program with an HTTP API and a readiness endpoint, on a free loopback port."""

    name = ""
    ready_path = "/-/ready"

    def __init__(self, workdir: Path, config: Path, binary: str):
        self.binary = binary
        self.workdir = Path(workdir)
        self.config = Path(config)
        self.port = free_port()
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self):
        self.process = ManagedProcess(self.argv(), self.workdir / f"{self.name}.log").start()
        self.process.wait_ready(lambda: http_ok(f"{self.url}{self.ready_path}"), timeout=30, what=f"{self.name} to be ready")
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()


class PrometheusServer(_ServedProgram):
    """`prometheus` with a given config file; its data lives in workdir and dies with it."""

    name = "prometheus"

    def __init__(self, workdir: Path, config: Path):
        super().__init__(workdir, config, require_program("prometheus"))

    def argv(self) -> list[str]:
        return [self.binary, f"--config.file={self.config}", f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-lifecycle", "--log.level=warn"]

    def api(self, path: str, **params) -> object:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        body = http_json(f"{self.url}/api/v1/{path}{query}")
        assert body["status"] == "success", body
        return body["data"]


class AlertmanagerServer(_ServedProgram):
    """`alertmanager` (Debian: prometheus-alertmanager) without clustering."""

    name = "alertmanager"

    def __init__(self, workdir: Path, config: Path):
        super().__init__(workdir, config, require_program("alertmanager", "/usr/bin/prometheus-alertmanager"))

    def argv(self) -> list[str]:
        return [self.binary, f"--config.file={self.config}", f"--storage.path={self.workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=warn"]

    def alerts(self) -> list[dict]:
        return http_json(f"{self.url}/api/v2/alerts")
