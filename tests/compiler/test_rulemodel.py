"""The guide's alerts and the KPI-derived ones, as the rule model decides them."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monspec.build import compile_specs
from monspec.model import build_model
from monspec.model.rules import alert_rules, camel, recording_rules
from monspec.spec import load_specs

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "golden_specs"


@pytest.fixture(scope="module")
def bundled():
    return load_specs(REPO / "specs")


def test_guide_alert_names_are_camel_case_of_its_keys(bundled) -> None:
    names = [r.name for r in alert_rules(bundled) if r.origin == "alert"]
    assert names == [
        "CacheHitRateCritical", "CacheResponseTimeCritical", "RedisMasterDown", "RedisClusterDown",
        "DatabaseErrors",  # our addition (specs/README.md): the guide has no database alert
        "CacheHitRateWarning", "L1CacheUtilizationHigh", "RedisConnectionErrors", "CacheWarmingIneffective",
        "CachePerformanceExcellent", "CacheWarmingCompleted",
    ]
    severities = [r.severity for r in alert_rules(bundled) if r.origin == "alert"]
    assert severities.count("critical") == 5 and severities.count("warning") == 4 and severities.count("info") == 2


@pytest.mark.parametrize("key,name", [("cache_hit_rate_critical", "CacheHitRateCritical"),
                                      ("l1_cache_utilization_high", "L1CacheUtilizationHigh"),
                                      ("unified-cache", "UnifiedCache")])
def test_camel(key: str, name: str) -> None:
    assert camel(key) == name


def test_kpi_thresholds_drive_alert_expressions(bundled) -> None:
    rules = {r.name: r for r in alert_rules(bundled)}
    assert rules["CacheHitRateCritical"].expr == 'unified_cache_hit_ratio{cache_level="overall"} < 0.7'
    assert rules["CacheHitRateWarning"].expr == 'unified_cache_hit_ratio{cache_level="overall"} < 0.85'
    assert rules["CacheResponseTimeCritical"].expr == 'unified_cache_operation_duration_seconds:p95{cache_level="l1"} > 0.01'
    assert rules["RedisMasterDown"].expr == "unified_redis_master_connected == 0"
    assert rules["RedisMasterDown"].for_ == "30s"
    assert rules["L1CacheUtilizationHigh"].expr == "unified_cache_l1_utilization > 0.9"


def test_kpi_levels_covered_by_a_guide_alert_get_no_second_alert(bundled) -> None:
    derived = [r.name for r in alert_rules(bundled) if r.origin == "kpi"]
    # overall_hit_rate (warning, critical), l1_response_time critical, l1_utilization warning,
    # redis_master_connected critical and warming_effectiveness warning are the guide's own alerts.
    assert derived == [
        "L1HitRateCritical", "L1HitRateWarning", "L2HitRateCritical", "L2HitRateWarning",
        "L1ResponseTimeWarning", "L2ResponseTimeCritical", "L2ResponseTimeWarning",
        "L3ResponseTimeCritical", "L3ResponseTimeWarning", "ThroughputCritical", "ThroughputWarning",
        "WarmingKeysPerCycleCritical", "WarmingKeysPerCycleWarning", "L1UtilizationCritical",
        "RedisReplicaConnectedCritical",
    ]
    twins = [r for r in alert_rules(bundled) if r.labels.get("kpi") == "overall_hit_rate"]
    assert [r.labels["severity"] for r in twins] == ["critical", "warning"]


def test_absence_alert_watches_the_scrape_job(bundled) -> None:
    rule = alert_rules(bundled)[-1]
    assert rule.name == "UnifiedCacheTargetMissing"
    assert rule.expr == 'absent(up{job="unified-cache"} == 1)'
    assert rule.for_ == "2m"
    assert rule.labels["severity"] == "critical"


def test_every_alert_has_severity_and_the_three_annotations(bundled) -> None:
    for rule in alert_rules(bundled):
        assert rule.labels["severity"] in ("critical", "warning", "info")
        assert {"summary", "description", "runbook_url"} <= set(rule.annotations)
        assert rule.annotations["runbook_url"] == f"https://runbooks.example.com/unified-cache/alerts.md#{rule.name.lower()}"


def test_hit_ratios_are_recording_rules_under_the_guides_name(bundled) -> None:
    hit = [r for r in recording_rules(bundled) if r.record == "unified_cache_hit_ratio"]
    assert [r.labels for r in hit] == [{"cache_level": "l1"}, {"cache_level": "l2"}, {"cache_level": "overall"}]


def test_hostile_strings_reach_rules_yml_exactly() -> None:
    build = compile_specs(FIXTURE)
    rules = yaml.safe_load(build.files["prometheus/rules.yml"])
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
    specs = yaml.safe_load((FIXTURE / "alerts.yaml").read_text())["alerts"]
    critical = alerts["ErrorRatioCritical"]["annotations"]
    assert critical["summary"] == specs["error_ratio_critical"]["summary"]
    assert critical["description"] == specs["error_ratio_critical"]["description"]
    assert "{% raw %}" in critical["description"] and "日本語" in critical["description"]
    stuck = alerts["QueueStuck"]
    assert stuck["annotations"]["summary"] == "Queue full and nothing moves: {{ $labels.instance }}"
    assert stuck["annotations"]["description"] == "One line, with a # hash and: a colon"
    assert stuck["annotations"]["dashboard"] == "https://grafana.example.com/d/shop"
    assert stuck["labels"]["page"] == "no"
    assert stuck["keep_firing_for"] == "10m"


def test_each_slo_is_built_once_for_its_rule_group_and_its_readers(bundled) -> None:
    """The rules.yml group of an SLO holds the very rules the model's objectives hold, which the SLO
    dashboard, its promtool tests and the runbook read: one build per SLO, not one per reader."""
    model = build_model(bundled)
    slo_rules = [rule for group in model.groups if group.origin == "slo" for rule in group.rules]
    held = [rule for objective in model.objectives
            for rule in (*objective.recording_rules, *(alert.rule for alert in objective.burn_alerts))]
    assert len(slo_rules) == len(held) > 0
    assert all(a is b for a, b in zip(slo_rules, held, strict=True))
