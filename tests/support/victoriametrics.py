"""VictoriaMetrics single-node server (scraping, storage, PromQL/MetricsQL API) and vmalert
(rule evaluation), real processes on free loopback ports (Debian package victoria-metrics)."""
from __future__ import annotations

import urllib.parse
from pathlib import Path

from .processes import require_program
from .prometheus_server import _ServedProgram, http_json


class VictoriaMetricsServer(_ServedProgram):
    """`victoria-metrics` scraping per a Prometheus-style scrape config (`config`); data dies with
    workdir. Queries see samples at once (`-search.latencyOffset=0s`, no response cache): the live
    tests run on second-scale intervals."""

    name = "victoria-metrics"
    ready_path = "/health"

    def __init__(self, workdir: Path, config: Path):
        super().__init__(workdir, config, require_program("victoria-metrics"))

    def argv(self) -> list[str]:
        return [self.binary, f"-storageDataPath={self.workdir / 'data'}", f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-promscrape.config={self.config}", "-search.latencyOffset=0s", "-search.disableCache",
                "-loggerLevel=WARN"]

    def query(self, expr: str) -> list[dict]:
        body = http_json(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        assert body["status"] == "success", body
        return body["data"]["result"]


class VmalertServer(_ServedProgram):
    """`vmalert` evaluating a rule file (`config`) against VictoriaMetrics, writing recorded series
    back to it and notifying an Alertmanager."""

    name = "vmalert"
    ready_path = "/health"

    def __init__(self, workdir: Path, rules: Path, victoria: VictoriaMetricsServer, alertmanager_url: str):
        super().__init__(workdir, rules, require_program("vmalert"))
        self.victoria = victoria
        self.alertmanager_url = alertmanager_url

    def argv(self) -> list[str]:
        return [self.binary, f"-rule={self.config}", f"-datasource.url={self.victoria.url}",
                f"-remoteWrite.url={self.victoria.url}", f"-notifier.url={self.alertmanager_url}",
                "-evaluationInterval=1s", f"-httpListenAddr=127.0.0.1:{self.port}", "-loggerLevel=WARN"]

    def alerts(self) -> list[dict]:
        """Pending and firing alerts, as vmalert's Prometheus-compatible API lists them."""
        body = http_json(f"{self.url}/api/v1/alerts")
        assert body["status"] == "success", body
        return body["data"]["alerts"]
