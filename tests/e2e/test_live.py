"""The committed generated/ files against real Prometheus, Alertmanager and Redis, with the
reference library under a workload: every metric is real, every rule evaluates, and the
guide's faults fire the exact alerts."""
from __future__ import annotations

import json
import math

import pytest

from monspec.build import compile_specs
from monspec.catalog import build_catalog
from monspec.rulemodel import alert_rules, recording_rules
from monspec.spec import load_specs

from e2e.stack import GENERATED, REPO, WINDOW, shorten_windows, wait_for

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
        selector = rule.record + "{" + ",".join(f'{k}="{v}"' for k, v in rule.labels.items()) + "}"
        wait_for(lambda: [s for s in query(stack, selector) if not math.isnan(float(s["value"][1]))],
                 30, f"recording rule {selector} to have a value")
    for kpi in SPECS.kpis.values():
        result = query(stack, kpi.expr)
        assert result or kpi.empty_when_healthy, f"KPI {kpi.name}: `{kpi.expr}` returned nothing"


def test_every_alert_expression_evaluates(stack) -> None:
    """Conditions are empty while healthy; what they compare (the KPIs) returns data above."""
    for rule in alert_rules(SPECS):
        query(stack, rule.expr)  # an evaluation error raises


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
    assert len(targets) == 30  # every target of the four guide dashboards
    for dashboard, panel, expr in targets:
        concrete = (expr.replace("$job", "unified-cache").replace("$instance", ".+")
                    .replace("$__rate_interval", WINDOW))
        concrete = shorten_windows(concrete)
        assert query(stack, concrete), f"{dashboard} / {panel}: `{concrete}` returned nothing"


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
    stack.master.start()
    stack.replica.wait_replica_synced(timeout=20)
    wait_resolved(stack, "RedisMasterDown")


def test_redis_cluster_down_while_reads_go_on(stack) -> None:
    before = ops_served(stack, stack.demo.target)
    stack.replica.kill()
    stack.master.kill()
    states = watch_alert(stack, "RedisClusterDown", stack.demo.target)
    assert states == ["pending", "firing"]
    [alert] = [a for a in alerts(stack, "RedisClusterDown") if a["labels"]["instance"] == stack.demo.target]
    assert alert["annotations"]["summary"] == "Complete Redis cluster failure"
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
    assert 0.70 <= float(alert["value"]) < 0.85
    assert [a for a in alerts(stack, "L1HitRateCritical")] == []
    stack.small_l1.stop()
    wait_resolved(stack, "L1HitRateWarning")


def test_a_dead_exporter_never_looks_healthy(stack) -> None:
    stack.demo.stop()
    states = watch_alert(stack, "UnifiedCacheTargetMissing")
    assert states == ["pending", "firing"]
