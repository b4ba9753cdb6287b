"""The committed generated/ files against real Prometheus, Alertmanager and Redis, with two
`ucm demo` instances under a workload: every metric is real, every rule evaluates, every
dashboard target returns data. The faults are in test_live_faults.py."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from e2e.conftest import GENERATED, REPO
from e2e.stack import shorten_windows
from monspec.demo.processes import wait_until
from monspec.model import build_model
from monspec.model.objective import objectives
from monspec.model.rules import alert_rules, recording_rules
from monspec.spec import load_specs

pytestmark = pytest.mark.live

SPECS = load_specs(REPO / "specs")
PROM_TYPES = {"counter": "counter", "gauge": "gauge", "histogram": "histogram"}


def wait_for(check, timeout: float, what: str) -> None:
    wait_until(check, timeout=timeout, interval=0.25, what=what)


def test_every_catalog_metric_is_scraped_with_its_type_and_labels(live) -> None:
    wait_for(lambda: live.query("unified_cache_warming_cycles_total > 0"), 20, "a warming cycle")
    metadata = live.api("metadata")
    for name, metric in SPECS.metrics.items():
        # Scraped as OpenMetrics, a counter's family name has no `_total`.
        family = name.removesuffix("_total") if metric.type == "counter" and name.removesuffix("_total") in metadata else name
        assert family in metadata, f"{name} was never scraped"
        assert {m["type"] for m in metadata[family]} == {PROM_TYPES[metric.type]}, name
        probe = f"{name}_count" if metric.type == "histogram" else name
        series = live.api("series", **{"match[]": probe})
        assert series, f"no series for {probe}"
        labels = {k for s in series for k in s} - {"__name__", "job", "instance"}
        assert labels == set(metric.labels), f"{name}: labels {sorted(labels)} != catalog {sorted(metric.labels)}"
        for label, allowed in metric.labels.items():
            if allowed == "any":
                continue
            seen = {s[label] for s in series}
            assert seen == set(allowed), f"{name}{{{label}}}: {sorted(seen)} != {sorted(allowed)}"


def test_every_recording_rule_and_kpi_returns_data(live) -> None:
    for rule in recording_rules(SPECS):
        matchers = {"job": SPECS.project.job, **rule.labels}
        selector = rule.record + "{" + ",".join(f'{k}="{v}"' for k, v in matchers.items()) + "}"
        wait_for(lambda selector=selector: [s for s in live.query(selector) if not math.isnan(float(s["value"][1]))],
                 30, f"recording rule {selector} to have a value")
    for kpi in SPECS.kpis.values():
        result = live.query(kpi.expr)
        assert result or kpi.empty_when_healthy, f"KPI {kpi.name}: `{kpi.expr}` returned nothing"


def test_every_alert_expression_evaluates(live) -> None:
    """Every condition evaluates (an error raises) to an instant vector, the only result an alert
    rule can fire on; what they compare (the KPIs) returns data above."""
    for rule in alert_rules(SPECS):
        data = live.api("query", query=rule.expr)
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


def test_every_dashboard_target_returns_data(live) -> None:
    targets = dashboard_targets()
    states = [t for t in targets if t[1] == "Alert states"]
    guide = [t for t in targets if not t[0].endswith(" - SLOs") and t[1] != "Alert states"]
    assert len(guide) == 30  # every target of the four guide dashboards
    # a state tile per alert on each dashboard that shows it (monspec.model.placement), each alert on one at least
    placement = build_model(SPECS).placement
    assert len(states) == sum(len(alerts) for alerts in placement.tiles.values())
    assert {t[2] for t in states} == {f'max(ALERTS{{alertname="{a.name}", alertstate="firing"}}) * 2 or max(ALERTS{{'
                                      f'alertname="{a.name}", alertstate="pending"}}) or vector(0)' for a in placement.alerts}
    # The SLO dashboard: all but the firing-alerts tables, which are empty while healthy.
    slos = [t for t in targets if t[0].endswith(" - SLOs") and t[1] != "Alert states" and not t[2].startswith("ALERTS")]
    assert len(slos) == 22
    for dashboard, panel, expr in guide + states + slos:
        concrete = (expr.replace("$job", "unified-cache").replace("$instance", ".+")
                    .replace("$__rate_interval", "5m"))
        concrete = shorten_windows(concrete)
        wait_for(lambda concrete=concrete: live.query(concrete), 15, f"{dashboard} / {panel}: `{concrete}` to return data")


def test_alert_state_tiles_and_annotations_read_the_alerts_series(live) -> None:
    """Each state tile is 0 (OK), 1 (pending) or 2 (firing); the annotation query evaluates."""
    dashboard = json.loads((GENERATED / "grafana" / "dashboards" / "unified-cache-operations-detail.json").read_text())
    [state] = [p for p in dashboard["panels"] if p["title"] == "Alert states"]
    for target in state["targets"]:
        [sample] = live.query(target["expr"])
        assert sample["value"][1] in ("0", "1", "2"), target["legendFormat"]
    [annotation] = [a for a in dashboard["annotations"]["list"] if a["name"] == "Firing alerts"]
    live.query(annotation["expr"])  # an evaluation error raises


def test_no_rule_has_an_evaluation_error(live) -> None:
    def all_evaluated():
        rules = [r for g in live.api("rules")["groups"] for r in g["rules"]]
        return rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules)

    wait_for(all_evaluated, 10, "every rule to be evaluated")
    rules = [r for g in live.api("rules")["groups"] for r in g["rules"]]
    expected = (len(recording_rules(SPECS)) + len(alert_rules(SPECS))
                + sum(len(objective.group.rules) for objective in objectives(SPECS)))
    assert len(rules) == expected
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert bad == []


def monspec_verify(live, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monspec.cli", "verify", "--prometheus", live.stack.prometheus_url,
                           *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_verify_is_ok_while_healthy_and_lists_the_targets(live) -> None:
    # Latency KPIs measure the (possibly loaded) test machine; every other KPI must be OK.
    latency = {k.name for k in SPECS.kpis.values() if k.unit == "seconds"}

    def read() -> dict:
        return json.loads(monspec_verify(live, "--format", "json").stdout)

    wait_for(lambda: {r["status"] for r in read()["kpis"] if r["kpi"] not in latency} == {"OK"}, 60,
             "every KPI to be OK")
    report = read()
    assert {r["kpi"] for r in report["kpis"]} == set(SPECS.kpis)
    both = {live.target("cache-a"), live.target("cache-b")}
    assert {r["instance"] for r in report["kpis"]} == both
    assert {(t["job"], t["instance"], t["health"], t["status"]) for t in report["targets"]} == \
        {("unified-cache", i, "up", "OK") for i in both}
    assert report["absent_metrics"] == []
    assert {r["slo"]: r["status"] for r in report["slos"]} == {slo: "OK" for slo in SPECS.slos}
    assert all(r["budget_remaining"] > 0.5 for r in report["slos"])
    table = monspec_verify(live).stdout
    assert "job unified-cache: 2/2 targets up" in table.splitlines()


def test_info_alerts_reach_the_digest_by_email(live) -> None:
    def digest() -> list[dict]:
        return [n for n in live.notifications() if n["kind"] == "email" and "CacheWarmingCompleted" in n["body"]["data"]]

    wait_for(digest, 30, "the digest email")
    mail = digest()[0]["body"]
    assert mail["to"] == ["performance-engineering@example.com"]
    assert mail["from"] == "alertmanager@example.com"
