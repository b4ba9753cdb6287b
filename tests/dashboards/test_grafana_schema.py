"""Every generated dashboard against Grafana's own authorities (no Grafana server runs here).

Discovered, not listed: the bundled output (generated/), the golden fixture's output
(tests/golden/*/grafana/) and every example's (examples/*/generated/), so a new spec set
is checked the day it is committed. Each committed file is validated against the schema of
the Grafana version its schemaVersion targets; each spec set is also rendered for every
supported version and validated against that version's schemas. And each decodes with
grafana-foundation-sdk 11.6 without error or lost field.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from monspec.model import build_model
from monspec.render.dashboard_normalise import normalise_json
from monspec.render.dashboards import dashboard_json
from monspec.spec import load_specs
from monspec.spec.models import GRAFANA_SCHEMA_VERSIONS
from support.grafana_schema import VERSIONS, schema_errors, sdk_roundtrip_errors

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [*ROOT.glob("generated/grafana/dashboards/*.json"), *ROOT.glob("tests/golden/*/grafana/dashboards/*.json"),
     *ROOT.glob("examples/*/generated/grafana/dashboards/*.json")])
BY_SCHEMA_VERSION = {number: f"v{version}" for version, number in GRAFANA_SCHEMA_VERSIONS.items()}


def _spec_roots() -> list[Path]:
    """The bundled specs, the golden fixture and every example's spec folder (the one with `project:`)."""
    roots = [ROOT / "specs", ROOT / "tests" / "fixtures" / "golden_specs"]
    for example in sorted(ROOT.glob("examples/*/")):
        found = {p.parent for p in example.rglob("*.yaml") if "generated" not in p.relative_to(example).parts
                 and any(line.startswith("project:") for line in p.read_text(encoding="utf-8").splitlines())}
        roots += sorted(found)
    return roots


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_committed_dashboards_are_found() -> None:
    assert len([f for f in FILES if f.parts[-4] == "generated"]) >= 4
    assert any("golden" in f.parts for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_committed_dashboard_validates_against_its_grafana_version(path: Path) -> None:
    model = json.loads(path.read_text(encoding="utf-8"))
    version = BY_SCHEMA_VERSION[model["schemaVersion"]]
    assert schema_errors(model, version) == []


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_committed_dashboard_decodes_with_the_foundation_sdk_without_loss(path: Path) -> None:
    assert sdk_roundtrip_errors(json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("root", _spec_roots(), ids=_id)
def test_every_dashboard_rendered_for_a_version_validates_against_it(root: Path, version: str) -> None:
    compiled = build_model(load_specs(root))
    assert compiled.specs.dashboards
    for key, dashboard in compiled.specs.dashboards.items():
        model = dashboard_json(compiled, key, dashboard, version.removeprefix("v"))
        assert model["schemaVersion"] == GRAFANA_SCHEMA_VERSIONS[version.removeprefix("v")]
        assert schema_errors(model, version) == [], key


def test_an_invalid_dashboard_is_reported_by_path() -> None:
    model = json.loads(FILES[0].read_text(encoding="utf-8"))
    model["style"] = "dark"
    model["panels"][-1]["options"]["legend"]["displayMode"] = "sideways"
    model["panels"][-1]["targets"][0]["format"] = "graph"
    last = len(model["panels"]) - 1
    assert schema_errors(model, "v11.6") == [
        "$: Additional properties are not allowed ('style' was unexpected)",
        f"$.panels[{last}].options.legend.displayMode: 'sideways' is not one of ['list', 'table', 'hidden']",
        f"$.panels[{last}].targets[0].format: 'graph' is not one of ['time_series', 'table', 'heatmap']",
    ]


def test_the_sdk_check_reports_a_dropped_field() -> None:
    model = json.loads(FILES[0].read_text(encoding="utf-8"))
    model["annotations"]["list"][-1]["titleFormat"] = "{{alertname}}"
    assert sdk_roundtrip_errors(model) == ["$.annotations.list[1].titleFormat: dropped"]


def test_normalise_removes_legacy_keys_and_nulls_and_fills_defaults() -> None:
    legacy = {
        "__inputs": [], "rows": [], "style": "dark", "hideControls": False, "sharedCrosshair": False, "gnetId": None,
        "id": None, "version": 0, "timepicker": {"nowDelay": None, "time_options": ["5m"], "hidden": False},
        "templating": {"list": [{"name": "job", "type": "query", "useTags": False, "tagsQuery": None, "auto": False,
                                 "auto_count": 30, "auto_min": "10s", "current": {"tags": [], "text": "a", "value": "a"}},
                                {"name": "step", "type": "interval", "auto": True, "auto_count": 30, "auto_min": "10s"}]},
        "panels": [
            {"type": "row", "id": 9, "title": "Row", "editable": True, "targets": [], "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}},
            {"type": "stat", "id": 1, "span": None, "editable": True, "error": False, "description": None,
             "fieldConfig": {"defaults": {"color": None, "thresholds": {"mode": "absolute", "steps": [
                 {"color": "green", "value": None}, {"color": "red", "value": 1}]}}, "overrides": []}},
            {"type": "table", "id": 2, "columns": [], "fontSize": "100%", "fieldConfig": {"defaults": {"custom": {
                "displayMode": "auto"}}}},
        ],
    }
    given = json.dumps(legacy)
    assert normalise_json(given, "11.6") == {
        "fiscalYearStartMonth": 0, "schemaVersion": 41, "timepicker": {"hidden": False},
        "templating": {"list": [{"name": "job", "type": "query", "current": {"text": "a", "value": "a"}},
                                {"name": "step", "type": "interval", "auto": True, "auto_count": 30, "auto_min": "10s"}]},
        "panels": [
            {"type": "row", "id": 9, "title": "Row", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}, "collapsed": False,
             "panels": []},
            {"type": "stat", "id": 1,
             "options": {"colorMode": "value", "graphMode": "area", "justifyMode": "auto", "orientation": "auto",
                         "percentChangeColorMode": "standard",
                         "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                         "showPercentChange": False, "text": {}, "textMode": "auto", "wideLayout": True},
             "fieldConfig": {"defaults": {"color": {"mode": "thresholds"}, "mappings": [], "thresholds": {
                 "mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}]}},
                 "overrides": []}},
            {"type": "table", "id": 2,
             "options": {"cellHeight": "sm", "footer": {"countRows": False, "reducer": ["sum"], "show": False},
                         "frameIndex": 0, "showHeader": True, "showTypeIcons": False},
             "fieldConfig": {"defaults": {"color": {"mode": "thresholds"}, "custom": {"align": "auto", "inspect": False},
                                          "mappings": []}, "overrides": []}},
        ],
    }
    assert "percentChangeColorMode" not in normalise_json(given, "10.4")["panels"][1]["options"]
    assert normalise_json(given, "10.4")["schemaVersion"] == 39
