"""Several components per project: one scrape job each, selectors as data, located lint errors; the
open unit list; inhibition and paging generated for any spec set."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from monspec.build import compile_specs, lint_specs
from monspec.errors import SpecError
from monspec.model import build_model
from monspec.model.inhibition import inhibit_rules
from monspec.spec import load_specs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "http-api" / "specs"


def _copy(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(EXAMPLE, specs)
    return specs


def _rules(build) -> dict:
    return {r.get("alert") or r["record"]: r for g in yaml.safe_load(build.files["prometheus/rules.yml"])["groups"]
            for r in g["rules"]}


def test_each_component_is_a_scrape_job_with_its_own_absence_alert() -> None:
    build = compile_specs(EXAMPLE)
    config = yaml.safe_load(build.files["prometheus/prometheus.yml"])
    assert [(j["job_name"], j["static_configs"][0]["targets"]) for j in config["scrape_configs"]] == [
        ("orders-api", ["127.0.0.1:8080"]), ("orders-consumer", ["127.0.0.1:8081"])]
    rules = _rules(build)
    assert rules["OrdersApiTargetMissing"]["expr"] == 'absent(up{job="orders-api"} == 1)'
    assert rules["OrdersConsumerTargetMissing"]["expr"] == 'absent(up{job="orders-consumer"} == 1)'
    # Every selector of a component's metric is narrowed to its job; alerts say which component they watch.
    assert rules["job:http_requests:rate5m"]["expr"] == 'sum by (job) (rate(http_requests_total{job="orders-api"}[5m]))'
    assert rules["ConsumerLagWarning"]["labels"]["component"] == "consumer"
    assert rules["LatencyP99Warning"]["labels"]["component"] == "api"


def test_selectors_are_data_the_same_specs_point_at_production(tmp_path: Path) -> None:
    specs = _copy(tmp_path)
    project = specs / "project.yaml"
    project.write_text(project.read_text().replace("      job: orders-api\n",
                                                   "      job: orders-api\n      selector: {job: orders-api-prod, env: prod}\n"))
    rules = _rules(compile_specs(specs))
    assert rules["job:http_requests:rate5m"]["expr"] == \
        'sum by (job) (rate(http_requests_total{env="prod", job="orders-api-prod"}[5m]))'
    assert rules["OrdersApiTargetMissing"]["expr"] == 'absent(up{env="prod", job="orders-api-prod"} == 1)'
    # The consumer keeps its default selector; no expression in the specs changed.
    assert rules["job:orders_consumer_lag_messages:max"]["expr"] == 'max by (job) (orders_consumer_lag_messages{job="orders-consumer"})'


@pytest.mark.parametrize("edit, expected", [
    (("catalog.yaml", "    component: api\n    type: gauge\n    unit: operations\n    help: Requests being", "    type: gauge\n    unit: operations\n    help: Requests being"),
     "catalog.yaml:20:3: error: `http_requests_in_flight` names no component; the project has 2 [catalog/missing-component]"),
    (("kpis.yaml", "    title: Consumer lag\n", "    title: Consumer lag\n    component: consumr\n"),
     "kpis.yaml:32:16: error: no component named `consumr` [spec/unknown-component]"),
    (("alerts.yaml", "    parent: consumer_stalled\n", "    parent: consumer_staled\n"),
     "alerts.yaml:13:13: error: no alert named `consumer_staled` to be this alert's parent [alert/unknown-parent]"),
])
def test_component_and_parent_references_are_located(tmp_path: Path, edit, expected) -> None:
    specs = _copy(tmp_path)
    name, old, new = edit
    text = (specs / name).read_text()
    assert old in text
    (specs / name).write_text(text.replace(old, new))
    with pytest.raises(SpecError) as exc:
        compile_specs(specs)
    rendered = [p.render().splitlines()[0].replace(f"{specs}/", "") for p in exc.value.problems]
    assert expected in rendered


def test_job_and_components_are_exclusive(tmp_path: Path) -> None:
    specs = _copy(tmp_path)
    project = specs / "project.yaml"
    project.write_text(project.read_text().replace("  title: Orders\n", "  title: Orders\n  job: orders\n"))
    with pytest.raises(SpecError) as exc:
        load_specs(specs)
    assert "give `job` (the service's one scrape job) or `components`" in exc.value.problems[0].message


def test_an_unknown_unit_is_a_warning_and_still_renders(tmp_path: Path) -> None:
    specs = _copy(tmp_path)
    catalog = specs / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("    unit: operations\n    help: Messages waiting", "    unit: messages\n    help: Messages waiting"))
    build = compile_specs(specs)
    assert [(p.id, p.severity, p.message) for p in build.problems] == [
        ("catalog/unknown-unit", "warning", "unit `messages` is not one monspec knows: values print with humanize, dashboards show no unit")]


def test_inhibition_is_generated_for_any_spec_set() -> None:
    model = build_model(load_specs(EXAMPLE))
    rules = {(tuple(sorted(r.source_match.items())), tuple(sorted(r.target_match.items())), tuple(r.equal))
             for r in inhibit_rules(model.specs)}
    assert rules == {
        ((("severity", "critical"),), (("severity", "warning"),), ("kpi", "component", "job", "instance")),
        # ConsumerStalled is `by (job)`: instance is not a label both carry, so the parent mutes on job alone.
        ((("alertname", "ConsumerStalled"),), (("alertname", "ConsumerLagGrowing"),), ("component", "job")),
        # An SLO's page alert mutes its own ticket alert, per SLI series (the SLO keeps `job`).
        ((("slo_severity", "page"),), (("slo_severity", "ticket"),), ("slo", "job")),
    }


def test_kpi_alerts_page_only_when_the_kpi_says_so() -> None:
    labels = {r.name: r.labels for r in build_model(load_specs(EXAMPLE)).alert_rules}
    assert labels["AvailabilityCritical"].get("page") == "true"     # availability: page: true
    assert "page" not in labels["AvailabilityWarning"]                # warnings never page
    assert "page" not in labels["LatencyP99Critical"]                 # no page: on the KPI
    assert labels["ConsumerStalled"].get("page") == "true"            # a hand-written critical alert
    assert labels["OrdersApiTargetMissing"].get("page") == "true"     # the absence alert


def test_lint_of_the_example_is_clean() -> None:
    _, problems = lint_specs(EXAMPLE)
    assert problems == []


def test_a_kpi_description_ending_in_a_period_gets_one() -> None:
    """"… server error (5xx).. The warning threshold" had two."""
    rules = _rules(compile_specs(EXAMPLE))
    description = rules["AvailabilityWarning"]["annotations"]["description"]
    assert description.startswith("Share of requests answered without a server error (5xx). The warning threshold is <0.99")
    assert ".." not in description


def test_recording_rules_are_found_by_the_series_they_record() -> None:
    """One name may have several rules (the guide's hit ratio, one per cache level), in spec order;
    following an expression through the rules it reads is then a lookup, not a scan of every rule
    (quadratic with a hundred components: 3 ms at 10x, 169 ms at 100x)."""
    specs = load_specs(ROOT / "specs")
    assert [rule.labels for rule in specs.recorded["unified_cache_hit_ratio"]] == [
        {"cache_level": "l1"}, {"cache_level": "l2"}, {"cache_level": "overall"}]
    assert [rule for rules in specs.recorded.values() for rule in rules] == specs.recording_rules
