"""The committed rules.yml on a scale-out engine: VictoriaMetrics scrapes `ucm demo`, vmalert
evaluates the same rules (the same one-second time compression as the Prometheus suite) and
notifies the test Alertmanager; the guide's faults fire the same alerts, with the same labels and
annotations, as under Prometheus (test_live.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from e2e.conftest import GENERATED
from e2e.stack import (
    Demo,
    demo_args,
    live_alertmanager_config,
    live_rules,
    start_redis,
    wait_for,
    wait_notified,
)
from support.capture_server import CaptureServer
from support.prometheus_server import AlertmanagerServer
from support.redis_server import RedisServer
from support.victoriametrics import VictoriaMetricsServer, VmalertServer

pytestmark = pytest.mark.live


@dataclass
class VmStack:
    master: RedisServer
    replica: RedisServer
    demo: Demo
    victoria: VictoriaMetricsServer
    vmalert: VmalertServer
    alertmanager: AlertmanagerServer
    capture: CaptureServer


def scrape_config(committed: str, target: str) -> str:
    """The committed scrape job, pointed at the demo, every second (VictoriaMetrics reads
    Prometheus' scrape_configs; rule files and alerting are vmalert's)."""
    config = yaml.safe_load(committed)
    [job] = config["scrape_configs"]
    job["static_configs"] = [{"targets": [target]}]
    return yaml.safe_dump({"global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
                           "scrape_configs": [job]}, sort_keys=False)


@pytest.fixture(scope="module")
def vm(tmp_path_factory):
    work: Path = tmp_path_factory.mktemp("victoriametrics")
    started: list = []
    with CaptureServer() as capture:
        try:
            master, replica = start_redis(work, started)
            demo = Demo(work, "demo", *demo_args(master, replica), "--keys", "500", "--l1-size", "1000").start()
            started.append(demo)
            am_config = work / "alertmanager.yml"
            am_config.write_text(live_alertmanager_config(
                (GENERATED / "alertmanager" / "alertmanager.yml").read_text(), work / "secrets", capture.url,
                f"127.0.0.1:{capture.smtp_port}"))
            alertmanager = AlertmanagerServer(work / "alertmanager", am_config).start()
            started.append(alertmanager)
            scrape = work / "scrape.yml"
            scrape.write_text(scrape_config((GENERATED / "prometheus" / "prometheus.yml").read_text(), demo.target))
            victoria = VictoriaMetricsServer(work / "victoria-metrics", scrape).start()
            started.append(victoria)
            rules = work / "rules.yml"
            rules.write_text(live_rules((GENERATED / "prometheus" / "rules.yml").read_text()))
            vmalert = VmalertServer(work / "vmalert", rules, victoria, alertmanager.url).start()
            started.append(vmalert)
            wait_for(lambda: victoria.query('up{job="unified-cache"} == 1'), 30, "VictoriaMetrics to scrape the demo")
            yield VmStack(master, replica, demo, victoria, vmalert, alertmanager, capture)
        finally:
            for part in reversed(started):
                part.stop()


def alerts(vm: VmStack, name: str) -> list[dict]:
    return [a for a in vm.vmalert.alerts() if a["labels"].get("alertname") == name]


def watch_alert(vm: VmStack, name: str, timeout: float = 40) -> list[str]:
    """States the alert passes through until it fires: `for` holds it pending first."""
    seen: list[str] = []

    def firing() -> bool:
        for alert in alerts(vm, name):
            if not seen or seen[-1] != alert["state"]:
                seen.append(alert["state"])
        return bool(seen) and seen[-1] == "firing"

    wait_for(firing, timeout, f"{name} to fire on vmalert")
    return seen


def test_recording_rules_write_their_series_back(vm: VmStack) -> None:
    wait_for(lambda: vm.victoria.query('unified_cache_requests:rate5m{job="unified-cache"} > 0'), 30,
             "vmalert to record unified_cache_requests:rate5m into VictoriaMetrics")
    wait_for(lambda: len(vm.victoria.query("unified_cache_hit_ratio")) == 3, 30, "the three recorded hit ratios")
    # The absence alert's compressed `for` (4s) is shorter than VictoriaMetrics' first scrape: it may
    # fire at start-up, and must resolve once the demo is scraped.
    wait_for(lambda: not alerts(vm, "UnifiedCacheTargetMissing"), 30, "UnifiedCacheTargetMissing to resolve")
    assert alerts(vm, "RedisMasterDown") == []


def test_redis_master_down_fires_as_under_prometheus(vm: VmStack) -> None:
    vm.master.kill()
    assert watch_alert(vm, "RedisMasterDown")[-1] == "firing"
    [alert] = alerts(vm, "RedisMasterDown")
    labels = alert["labels"]
    assert (labels["severity"], labels["kpi"], labels["instance"]) == ("critical", "redis_master_connected",
                                                                      vm.demo.target)
    assert alert["annotations"]["summary"] == "Redis master connection lost"
    assert alerts(vm, "RedisClusterDown") == []  # the replica still answers
    # The same route as under Prometheus: critical -> cache-oncall (PagerDuty and the incident webhook).
    page = wait_notified(vm, "pagerduty", "cache-oncall", "RedisMasterDown")["body"]
    assert (page["payload"]["summary"], page["payload"]["severity"]) == ("Redis master connection lost", "critical")
    hook = wait_notified(vm, "webhook", "cache-oncall", "RedisMasterDown")
    assert hook["body"]["commonAnnotations"]["runbook_url"].endswith("/alerts.md#redismasterdown")
    vm.master.start()
    vm.replica.wait_replica_synced(timeout=20)
    wait_for(lambda: not alerts(vm, "RedisMasterDown"), 40, "RedisMasterDown to resolve on vmalert")


def test_a_dead_exporter_fires_the_absence_alert(vm: VmStack) -> None:
    vm.demo.stop()
    assert watch_alert(vm, "UnifiedCacheTargetMissing")[-1] == "firing"
    [alert] = alerts(vm, "UnifiedCacheTargetMissing")
    assert alert["labels"]["severity"] == "critical"
    wait_notified(vm, "webhook", "cache-oncall", "UnifiedCacheTargetMissing")
