"""The committed generated/ files against real Prometheus, Alertmanager and Redis, with the
reference library under a workload: every metric is real, every rule evaluates, and the
guide's faults fire the exact alerts."""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

from monspec.build import compile_specs
from monspec.model.catalog import build_catalog
from monspec.model.rules import alert_rules, recording_rules
from monspec.spec import load_specs

from e2e.stack import GENERATED, REPO, UNDERSIZED_JOB, WINDOW, notifications, shorten_windows, wait_for, wait_notified

pytestmark = pytest.mark.live

SPECS = load_specs(REPO / "specs")
PROM_TYPES = {"counter": "counter", "gauge": "gauge", "histogram": "histogram"}


def query(stack, expr: str) -> list[dict]:
    return stack.prometheus.api("query", query=expr)["result"]


def test_every_catalog_metric_is_scraped_with_its_type_and_labels(stack) -> None:
    wait_for(lambda: query(stack, "unified_cache_warming_cycles_total > 0"), 20, "a warming cycle")
    metadata = stack.prometheus.api("metadata")
    for name, metric in SPECS.metrics.items():
        # Scraped as OpenMetrics, a counter's family name has no `_total`.
        family = name.removesuffix("_total") if metric.type == "counter" and name.removesuffix("_total") in metadata else name
        assert family in metadata, f"{name} was never scraped"
        assert {m["type"] for m in metadata[family]} == {PROM_TYPES[metric.type]}, name
        probe = f"{name}_count" if metric.type == "histogram" else name
        series = stack.prometheus.api("series", **{"match[]": probe})
        assert series, f"no series for {probe}"
        labels = {k for s in series for k in s} - {"__name__", "job", "instance"}
        assert labels == set(metric.labels), f"{name}: labels {sorted(labels)} != catalog {sorted(metric.labels)}"
        for label, allowed in metric.labels.items():
            if allowed == "any":
                continue
            seen = {s[label] for s in series}
            assert seen == set(allowed), f"{name}{{{label}}}: {sorted(seen)} != {sorted(allowed)}"


def test_every_recording_rule_and_kpi_returns_data(stack) -> None:
    for rule in recording_rules(SPECS):
        matchers = {"job": SPECS.project.job, **rule.labels}
        selector = rule.record + "{" + ",".join(f'{k}="{v}"' for k, v in matchers.items()) + "}"
        wait_for(lambda: [s for s in query(stack, selector) if not math.isnan(float(s["value"][1]))],
                 30, f"recording rule {selector} to have a value")
    for kpi in SPECS.kpis.values():
        result = query(stack, kpi.expr)
        assert result or kpi.empty_when_healthy, f"KPI {kpi.name}: `{kpi.expr}` returned nothing"


def test_every_alert_expression_evaluates(stack) -> None:
    """Every condition evaluates (an error raises) to an instant vector, the only result an alert
    rule can fire on; what they compare (the KPIs) returns data above."""
    for rule in alert_rules(SPECS):
        data = stack.prometheus.api("query", query=rule.expr)
        assert data["resultType"] == "vector", f"{rule.name}: `{rule.expr}` gives a {data['resultType']}"


def dashboard_targets() -> list[tuple[str, str, str]]:
    """(dashboard, panel, expr) for every target of the committed dashboards."""
    out = []
    for path in sorted((GENERATED / "grafana" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                out.append((dashboard["title"], panel["title"], target["expr"]))
    return out


def test_every_dashboard_target_returns_data(stack) -> None:
    targets = dashboard_targets()
    states = [t for t in targets if t[1] == "Alert states"]
    assert len(targets) - len(states) == 30  # every target of the four guide dashboards
    assert len(states) == 4 * len(alert_rules(SPECS))  # and one state tile per alert on each
    for dashboard, panel, expr in targets:
        concrete = (expr.replace("$job", "unified-cache").replace("$instance", ".+")
                    .replace("$__rate_interval", WINDOW))
        concrete = shorten_windows(concrete)
        wait_for(lambda: query(stack, concrete), 15, f"{dashboard} / {panel}: `{concrete}` to return data")


def test_alert_state_tiles_and_annotations_read_the_alerts_series(stack) -> None:
    """Each state tile is 0 (OK), 1 (pending) or 2 (firing); the annotation query evaluates."""
    dashboard = json.loads((GENERATED / "grafana" / "dashboards" / "unified-cache-operations-detail.json").read_text())
    [state] = [p for p in dashboard["panels"] if p["title"] == "Alert states"]
    for target in state["targets"]:
        [sample] = query(stack, target["expr"])
        assert sample["value"][1] in ("0", "1", "2"), target["legendFormat"]
    [annotation] = [a for a in dashboard["annotations"]["list"] if a["name"] == "Firing alerts"]
    query(stack, annotation["expr"])  # an evaluation error raises


def test_no_rule_has_an_evaluation_error(stack) -> None:
    def all_evaluated():
        rules = [r for g in stack.prometheus.api("rules")["groups"] for r in g["rules"]]
        return rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules)

    wait_for(all_evaluated, 10, "every rule to be evaluated")
    groups = stack.prometheus.api("rules")["groups"]
    rules = [r for g in groups for r in g["rules"]]
    expected = len(recording_rules(SPECS)) + len(alert_rules(SPECS))
    assert len(rules) == expected
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert bad == []


def monspec_verify(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monspec.cli", "verify", "--prometheus", stack.prometheus.url, *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def test_verify_is_ok_while_healthy(stack) -> None:
    wait_for(lambda: monspec_verify(stack).returncode == 0, 30, "every KPI to be OK")
    result = monspec_verify(stack, "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["exit_code"] == 0
    assert {r["kpi"] for r in report["kpis"]} == set(SPECS.kpis)
    assert {r["status"] for r in report["kpis"]} == {"OK"}
    assert {r["instance"] for r in report["kpis"]} == {stack.demo.target}
    assert report["absent_metrics"] == []


def test_info_alerts_reach_the_digest_by_email(stack) -> None:
    watch_alert(stack, "CachePerformanceExcellent", stack.demo.target)
    wait_for(lambda: any("CachePerformanceExcellent" in m["data"] for m in stack.smtp.received()), 20,
             "the digest email")
    [mail] = [m for m in stack.smtp.received() if "CachePerformanceExcellent" in m["data"]][:1]
    assert mail["to"] == ["performance-engineering@example.com"]
    assert mail["from"] == "alertmanager@example.com"


# --- faults -----------------------------------------------------------------------------

def alerts(stack, name: str) -> list[dict]:
    return [a for a in stack.prometheus.api("alerts")["alerts"] if a["labels"]["alertname"] == name]


def watch_alert(stack, name: str, instance: str | None = None, timeout: float = 30) -> list[str]:
    """States the alert passes through until it fires: proves `for` holds it pending first."""
    seen: list[str] = []

    def firing() -> bool:
        for alert in alerts(stack, name):
            if instance and alert["labels"].get("instance") != instance:
                continue
            if not seen or seen[-1] != alert["state"]:
                seen.append(alert["state"])
        return bool(seen) and seen[-1] == "firing"

    wait_for(firing, timeout, f"{name} to fire")
    return seen


def wait_resolved(stack, name: str, timeout: float = 30) -> None:
    wait_for(lambda: not alerts(stack, name), timeout, f"{name} to resolve")


def inhibited_by(stack, alertname: str) -> list[str]:
    return [fp for a in stack.alertmanager.alerts() if a["labels"]["alertname"] == alertname
            for fp in a["status"]["inhibitedBy"]]


def ops_served(stack, instance: str) -> float:
    [sample] = query(stack, f'sum(unified_cache_operations_total{{cache_level="l1",instance="{instance}"}})')
    return float(sample["value"][1])


def test_redis_master_down_fires_and_resolves(stack) -> None:
    assert alerts(stack, "RedisMasterDown") == []
    stack.master.kill()
    states = watch_alert(stack, "RedisMasterDown", stack.demo.target)
    assert states == ["pending", "firing"]
    [alert] = [a for a in alerts(stack, "RedisMasterDown") if a["labels"]["instance"] == stack.demo.target]
    assert alert["labels"]["severity"] == "critical" and alert["labels"]["kpi"] == "redis_master_connected"
    assert alert["annotations"]["summary"] == "Redis master connection lost"
    assert alerts(stack, "RedisClusterDown") == []  # the replica still answers
    # critical -> cache-oncall: a PagerDuty event and the incident-log webhook.
    page = wait_notified(stack, "pagerduty", "cache-oncall", "RedisMasterDown").body
    assert page["routing_key"] == "test-routing-key-cache-oncall"
    assert page["event_action"] == "trigger"
    assert page["payload"]["summary"] == "Redis master connection lost"
    assert page["payload"]["severity"] == "critical"
    assert (page["payload"]["source"], page["payload"]["component"]) == ("UnifiedConnectionManager", "cache")
    hook = wait_notified(stack, "webhook", "cache-oncall", "RedisMasterDown")
    assert hook.headers["Authorization"] == "Bearer test-token"
    assert hook.body["receiver"] == "cache-oncall"
    assert hook.body["commonAnnotations"]["summary"] == "Redis master connection lost"
    assert hook.body["commonAnnotations"]["runbook_url"].endswith("/alerts.md#redismasterdown")
    assert notifications(stack, "slack", "cache-chat", "RedisMasterDown") == []
    # verify sees it too: CRITICAL, exit 2.
    result = monspec_verify(stack)
    assert result.returncode == 2, result.stdout
    [line] = [l for l in result.stdout.splitlines() if l.startswith("redis_master_connected ")]
    assert line.split()[2:4] == ["0", "CRITICAL"]

    stack.master.start()
    stack.replica.wait_replica_synced(timeout=20)
    wait_resolved(stack, "RedisMasterDown")
    resolved = wait_notified(stack, "webhook", "cache-oncall", "RedisMasterDown", "resolved")
    assert resolved.body["alerts"][0]["status"] == "resolved"
    wait_for(lambda: any(r.body["event_action"] == "resolve" for r in stack.capture.received("/pagerduty/cache-oncall")),
             20, "PagerDuty to be told the incident resolved")


def test_redis_cluster_down_while_reads_go_on(stack) -> None:
    before = ops_served(stack, stack.demo.target)
    stack.replica.kill()
    stack.master.kill()
    states = watch_alert(stack, "RedisClusterDown", stack.demo.target)
    assert states == ["pending", "firing"]
    [alert] = [a for a in alerts(stack, "RedisClusterDown") if a["labels"]["instance"] == stack.demo.target]
    assert alert["annotations"]["summary"] == "Complete Redis cluster failure"
    page = wait_notified(stack, "pagerduty", "cache-oncall", "RedisClusterDown").body
    assert page["payload"]["summary"] == "Complete Redis cluster failure"
    # The cluster alert says the master is down already: Alertmanager mutes RedisMasterDown.
    wait_for(lambda: inhibited_by(stack, "RedisMasterDown"), 20, "RedisMasterDown to be inhibited")
    # The manager keeps serving from L1 and the database: lookups go on, none fails.
    wait_for(lambda: ops_served(stack, stack.demo.target) > before + 300, 20, "lookups to go on without Redis")
    stack.master.start()
    stack.replica.start()
    stack.replica.wait_replica_synced(timeout=20)
    wait_resolved(stack, "RedisClusterDown")
    wait_resolved(stack, "RedisMasterDown")


def test_l1_far_below_the_working_set_warns(stack) -> None:
    states = watch_alert(stack, "L1HitRateWarning", stack.small_l1.target)
    assert states[-1] == "firing"
    [alert] = alerts(stack, "L1HitRateWarning")
    assert alert["labels"]["instance"] == stack.small_l1.target  # the well-sized instance stays quiet
    assert alert["labels"]["job"] == UNDERSIZED_JOB
    assert 0.70 <= float(alert["value"]) < 0.85
    assert [a for a in alerts(stack, "L1HitRateCritical")] == []
    # warning -> cache-chat on Slack, with the summary Prometheus rendered.
    message = wait_notified(stack, "slack", "cache-chat", "L1HitRateWarning").body
    attachment = message["attachments"][0]
    assert message["channel"] == "#cache-alerts"
    assert attachment["title"] == f"[FIRING] L1HitRateWarning on {stack.small_l1.target}"
    summary, runbook, _ = attachment["text"].split("\n")
    assert re.fullmatch(r"L1 cache hit rate warning: (7\d|8[0-4])(\.\d+)?%", summary), summary
    assert runbook == "https://runbooks.example.com/unified-cache/alerts.md#l1hitratewarning"
    assert notifications(stack, "pagerduty", "cache-oncall", "L1HitRateWarning") == []
    # A full L1 fires its critical utilization alert, which mutes the warning twin.
    watch_alert(stack, "L1UtilizationCritical", stack.small_l1.target)
    wait_for(lambda: inhibited_by(stack, "L1CacheUtilizationHigh"), 20, "L1CacheUtilizationHigh to be inhibited")
    stack.small_l1.stop()
    wait_resolved(stack, "L1HitRateWarning")
    wait_notified(stack, "slack", "cache-chat", "L1HitRateWarning", "resolved")


def test_a_dead_exporter_never_looks_healthy(stack) -> None:
    stack.demo.stop()
    states = watch_alert(stack, "UnifiedCacheTargetMissing")
    assert states == ["pending", "firing"]
