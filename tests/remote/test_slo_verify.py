"""`monspec verify` on SLOs against a real Prometheus: an exporter whose error share we set, the
generated SLO rules evaluating every second, and verify's SLO table read back.

Healthy, the SLO is OK with its whole budget left; at 50% errors (50x the budget of a 99%
objective) the page alert goes pending, verify says CRITICAL, names the page conditions that
hold, and the budget falls below zero."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monspec.build import compile_specs
from monspec.output import write_tree
from support.processes import free_port, wait_until
from support.prometheus_server import PrometheusServer

SPECS = {
    "project.yaml": """\
project:
  name: shop
  title: Shop API
  job: shop
  scrape_interval: 1s
  evaluation_interval: 1s
  runbook_base_url: https://runbooks.example.com/shop/alerts.md
  absence_alert: false
""",
    "catalog.yaml": """\
metrics:
  shop_requests_total:
    type: counter
    unit: operations
    help: HTTP requests by outcome.
    labels:
      outcome: [ok, error]
""",
    "slos.yaml": """\
slos:
  checkout_availability:
    description: Checkout requests that do not fail.
    objective: 99
    sli:
      ratio:
        errors: shop_requests_total{outcome="error"}
        total: shop_requests_total
""",
}


class Exporter:
    """/metrics with request counters growing by 1000 per scrape, `error_share` of them errors."""

    def __init__(self) -> None:
        self.error_share = 0.0
        self.ok = self.errors = 0.0
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                errors = round(1000 * exporter.error_share)
                exporter.errors += errors
                exporter.ok += 1000 - errors
                body = ("# TYPE shop_requests_total counter\n"
                        f'shop_requests_total{{outcome="ok"}} {exporter.ok}\n'
                        f'shop_requests_total{{outcome="error"}} {exporter.errors}\n').encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live(tmp_path: Path):
    specs = tmp_path / "specs"
    specs.mkdir()
    for name, text in SPECS.items():
        (specs / name).write_text(text)
    write_tree(tmp_path / "generated", compile_specs(specs).files)
    exporter = Exporter()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""\
global: {{scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 900ms}}
rule_files: [{tmp_path / "generated" / "prometheus" / "rules.yml"}]
scrape_configs:
  - job_name: shop
    static_configs: [{{targets: ["127.0.0.1:{exporter.port}"]}}]
""")
    prometheus = PrometheusServer(tmp_path, config).start()
    try:
        yield specs, exporter, prometheus
    finally:
        prometheus.stop()
        exporter.close()


def _verify(specs: Path, prometheus: PrometheusServer) -> tuple[int, dict]:
    result = subprocess.run([sys.executable, "-m", "monspec.cli", "verify", "--specs", str(specs),
                             "--prometheus", prometheus.url, "--format", "json"], capture_output=True, text=True, timeout=60)
    return result.returncode, json.loads(result.stdout)


def test_verify_reports_the_slo_and_the_page_alert_goes_pending(live) -> None:
    specs, exporter, prometheus = live
    readings: dict = {}

    def status(wanted: str, firing: str | None = None) -> bool:
        _, report = _verify(specs, prometheus)
        [readings["slo"]] = report["slos"]
        return readings["slo"]["status"] == wanted and (firing is None or firing in readings["slo"]["firing"])

    wait_until(lambda: status("OK"), timeout=30, interval=0.5, what="the SLO to read OK")
    healthy = readings["slo"]
    assert healthy["sli"] == 1.0 and healthy["budget_remaining"] == 1.0 and healthy["fastest_burn"] == 0.0
    assert healthy["objective"] == "99%" and healthy["window"] == "30d" and healthy["firing"] == []

    exporter.error_share = 0.5  # 50x the 1% budget: both page pairs (14.4x, 6x) and both ticket pairs
    wait_until(lambda: status("CRITICAL", "CheckoutAvailabilityBurnRate1h"), timeout=60, interval=0.5,
               what="the SLO to read CRITICAL with its fast page condition")
    code, report = _verify(specs, prometheus)
    [slo] = report["slos"]
    assert code == 2 and slo["status"] == "CRITICAL"
    assert "CheckoutAvailabilityBurnRate1h" in slo["firing"]
    assert slo["budget_remaining"] < 0 < slo["sli"] < 1
    assert slo["fastest_burn"] > 14.4
    alerts = {a["labels"]["alertname"]: a["state"] for a in prometheus.api("alerts")["alerts"]}
    assert alerts.get("CheckoutAvailabilityBurnRate1h") == "pending"  # for: 2m
    table = subprocess.run([sys.executable, "-m", "monspec.cli", "verify", "--specs", str(specs),
                            "--prometheus", prometheus.url], capture_output=True, text=True, timeout=60).stdout
    assert "checkout_availability" in table and "CRITICAL (CheckoutAvailabilityBurnRate1h" in table
