"""VictoriaMetrics single-node server (scraping, storage, PromQL/MetricsQL API) and vmalert
(rule evaluation), real processes on free loopback ports (Debian package victoria-metrics)."""
from __future__ import annotations

import urllib.parse
from pathlib import Path

from .processes import ManagedProcess, free_port, require_program
from .prometheus_server import http_json, http_ok


class VictoriaMetricsServer:
    """`victoria-metrics` scraping per a Prometheus-style scrape config; data dies with workdir.

    Queries see samples at once (`-search.latencyOffset=0s`, no response cache): the live tests
    run on second-scale intervals."""

    def __init__(self, workdir: Path, scrape_config: Path):
        self.binary = require_program("victoria-metrics")
        self.workdir = Path(workdir)
        self.scrape_config = Path(scrape_config)
        self.port = free_port()
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "VictoriaMetricsServer":
        argv = [self.binary, f"-storageDataPath={self.workdir / 'data'}", f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-promscrape.config={self.scrape_config}", "-search.latencyOffset=0s", "-search.disableCache",
                "-loggerLevel=WARN"]
        self.process = ManagedProcess(argv, self.workdir / "victoria-metrics.log").start()
        self.process.wait_ready(lambda: http_ok(f"{self.url}/health"), timeout=30, what="victoria-metrics to be ready")
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def query(self, expr: str) -> list[dict]:
        body = http_json(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        assert body["status"] == "success", body
        return body["data"]["result"]


class VmalertServer:
    """`vmalert` evaluating rule files against VictoriaMetrics, writing recorded series back to it
    and notifying an Alertmanager."""

    def __init__(self, workdir: Path, rules: Path, victoria: VictoriaMetricsServer, alertmanager_url: str):
        self.binary = require_program("vmalert")
        self.workdir = Path(workdir)
        self.rules = Path(rules)
        self.victoria = victoria
        self.alertmanager_url = alertmanager_url
        self.port = free_port()
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "VmalertServer":
        argv = [self.binary, f"-rule={self.rules}", f"-datasource.url={self.victoria.url}",
                f"-remoteWrite.url={self.victoria.url}", f"-notifier.url={self.alertmanager_url}",
                "-evaluationInterval=1s", f"-httpListenAddr=127.0.0.1:{self.port}", "-loggerLevel=WARN"]
        self.process = ManagedProcess(argv, self.workdir / "vmalert.log").start()
        self.process.wait_ready(lambda: http_ok(f"{self.url}/health"), timeout=30, what="vmalert to be ready")
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def alerts(self) -> list[dict]:
        """Pending and firing alerts, as vmalert's Prometheus-compatible API lists them."""
        body = http_json(f"{self.url}/api/v1/alerts")
        assert body["status"] == "success", body
        return body["data"]["alerts"]
