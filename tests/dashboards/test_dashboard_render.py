"""The bundled dashboards against golden files, and the properties Grafana relies on."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from monspec import promql
from monspec.lint import run_lint
from monspec.model import build_model
from monspec.render import dashboards as render_dashboards
from monspec.render import provisioning
from monspec.render.dashboards import filtered, kpi_steps, layout, list_steps, stable_uid
from monspec.spec import load_specs
from monspec.spec.dashboards import lintable

ROOT = Path(__file__).parent.parent.parent
SPECS = ROOT / "specs"

# Every dashboard and panel title the guide lists ("Monitoring Dashboards" and the
# appendix "Grafana Dashboard JSON").
GUIDE = {
    "UnifiedConnectionManager - Executive Overview": [
        "Overall Cache Performance", "Average Response Time", "Throughput", "System Health",
        "Cache Hit Rate Trend (24h)"],
    "UnifiedConnectionManager - Operations Detail": [
        "Cache Operations by Level", "Response Time Distribution", "L1 Cache Utilization",
        "Redis Connection Status", "Connection Error Rate"],
    "UnifiedConnectionManager - Engineering Deep Dive": [
        "Cache Warming Effectiveness", "Access Pattern Analysis", "Cache Size vs Performance",
        "Memory Usage by Component", "GC Impact on Cache Performance"],
    "UnifiedConnectionManager - Cache Performance": ["Cache Hit Rate", "Cache Operations Rate"],
}
# The guide's legends, kept (with the units the corrected queries really have).
GUIDE_LEGENDS = {
    "Hit Rate", "Avg Response Time", "Operations/sec", "Redis Status", "L1 Hit Rate", "L2 Hit Rate",
    "Overall Hit Rate", "L1 Hits/sec", "L2 Hits/sec", "Cache Misses/sec", "L1 Utilization %", "L1 Size %",
    "Master Connected", "Replica Connected", "Redis Errors/min", "Database Errors/min", "Warming Hit Rate",
    "Keys Warmed/min", "Most Accessed Keys", "L1 Cache Size", "Total Memory", "L1 Cache Memory", "Misses/sec",
}


@pytest.fixture(scope="module")
def specs():
    return load_specs(SPECS)


@pytest.fixture(scope="module")
def rendered(specs) -> dict[str, str]:
    return render_dashboards.render(build_model(specs))


@pytest.fixture(scope="module")
def boards(rendered) -> dict[str, dict]:
    return {json.loads(text)["title"]: json.loads(text) for text in rendered.values()}


def _content(board) -> list[dict]:
    """The spec's panels: those after the "Alerts" row, its state panel and the "Panels" row."""
    titles = [p["title"] for p in board["panels"][:3]]
    assert titles == ["Alerts", "Alert states", "Panels"], titles
    return board["panels"][3:]


def _targets(board):
    for panel in _content(board):
        for target in panel["targets"]:
            yield panel, target


def test_bundled_dashboards_are_one_file_per_spec(rendered) -> None:
    """Their bytes are held by generated/ itself (tests/compiler/test_output.py: `monspec check`)."""
    assert sorted(rendered) == [
        "grafana/dashboards/unified-cache-cache-performance.json",
        "grafana/dashboards/unified-cache-engineering-deep-dive.json",
        "grafana/dashboards/unified-cache-executive-overview.json",
        "grafana/dashboards/unified-cache-operations-detail.json",
    ]


def test_provisioning_file_points_at_the_folder(specs) -> None:
    files = provisioning.render(build_model(specs))
    text = files["grafana/provisioning/dashboards.yaml"]
    data = yaml.safe_load(text)
    assert data["apiVersion"] == 1
    [provider] = data["providers"]
    assert provider["type"] == "file"
    assert provider["folder"] == "UnifiedConnectionManager"  # project.title, no grafana_folder set
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/unified-cache"


def test_the_bundled_specs_lint_clean(specs) -> None:
    assert [p.render() for p in run_lint(build_model(specs)) if p.id.startswith("dashboard/")] == []
    panel_problems = [p.render() for p in run_lint(build_model(specs)) if "panel `" in p.message]
    assert panel_problems == []


def test_every_dashboard_and_panel_title_of_the_guide_appears(boards) -> None:
    assert set(boards) == set(GUIDE)
    for title, panels in GUIDE.items():
        assert [p["title"] for p in _content(boards[title])] == panels


def test_the_guide_legends_are_kept(boards) -> None:
    legends = {t["legendFormat"] for board in boards.values() for _, t in _targets(board)}
    assert GUIDE_LEGENDS <= legends


def test_every_query_parses_and_filters_on_job_and_instance(boards) -> None:
    count = 0
    for board in boards.values():
        for panel, target in _targets(board):
            analysis = promql.parse(lintable(target["expr"]))  # raises on a syntax error
            assert analysis.selectors, target["expr"]
            for selector in analysis.selectors:
                matchers = {(m.name, m.op, m.value) for m in selector.matchers}
                assert ("job", "=~", "$job") in matchers, (panel["title"], target["expr"])
                assert ("instance", "=~", "$instance") in matchers, (panel["title"], target["expr"])
            count += 1
    assert count == 30


def test_no_query_reads_a_series_the_catalog_lacks(boards, specs) -> None:
    from monspec.model.catalog import build_catalog

    catalog = build_catalog(specs)
    for board in boards.values():
        for _, target in _targets(board):
            for selector in promql.parse(lintable(target["expr"])).selectors:
                assert catalog.get(selector.name) is not None, selector.name


def test_grafana_model_essentials(boards) -> None:
    for board in boards.values():
        assert board["schemaVersion"] == 41  # Grafana 11.6, the project's default target
        assert len(board["uid"]) <= 40 and board["uid"] == stable_uid(board["uid"])
        assert "id" not in board and "version" not in board and board["editable"] is False
        assert board["tags"] == ["cache", "performance", "redis"]
        assert (board["refresh"], board["time"], board["timezone"]) == ("30s", {"from": "now-1h", "to": "now"}, "browser")
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
        assert variables["job"]["query"] == "label_values(up, job)"
        assert variables["instance"]["query"] == 'label_values(up{job=~"$job"}, instance)'
        for name in ("job", "instance"):
            assert variables[name]["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert (variables[name]["multi"], variables[name]["includeAll"], variables[name]["allValue"]) == (True, True, ".+")
        assert variables["job"]["current"] == {"selected": True, "text": ["unified-cache"], "value": ["unified-cache"]}
        ids = [p["id"] for p in _content(board)]
        assert ids == list(range(1, len(ids) + 1))
        assert [p["id"] for p in board["panels"][:3]] == [len(ids) + 1, len(ids) + 2, len(ids) + 3]
        for panel in _content(board):
            assert panel["description"]
            assert panel["type"] in ("timeseries", "stat", "heatmap", "table")
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            for target in panel["targets"]:
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        _assert_no_overlap([p["gridPos"] for p in board["panels"]])


def _assert_no_overlap(positions: list[dict]) -> None:
    for i, a in enumerate(positions):
        assert 0 <= a["x"] and a["x"] + a["w"] <= 24, a
        for b in positions[i + 1:]:
            apart = (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
                     or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])
            assert apart, (a, b)


def _panel(boards, dashboard: str, title: str) -> dict:
    return next(p for p in _content(boards[f"UnifiedConnectionManager - {dashboard}"]) if p["title"] == title)


def test_kpi_panels_take_their_colours_from_the_kpi(boards) -> None:
    hit = _panel(boards, "Executive Overview", "Overall Cache Performance")
    # overall_hit_rate: critical <0.70, warning <0.85, target >0.90
    assert hit["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "red", "value": None}, {"color": "orange", "value": 0.7},
        {"color": "yellow", "value": 0.85}, {"color": "green", "value": 0.9}]
    assert hit["fieldConfig"]["defaults"]["unit"] == "percentunit"
    health = _panel(boards, "Operations Detail", "Redis Connection Status")
    assert health["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "red", "value": None}, {"color": "green", "value": 1.0}]
    assert health["fieldConfig"]["defaults"]["unit"] == "bool"


def test_changing_a_kpi_changes_the_panel_colours(tmp_path) -> None:
    specs_dir = tmp_path / "specs"
    shutil.copytree(SPECS, specs_dir)
    kpis = specs_dir / "kpis.yaml"
    kpis.write_text(kpis.read_text().replace('critical: "<0.70"\n    for: 5m\n    description: Total cache',
                                             'critical: "<0.60"\n    for: 5m\n    description: Total cache'))
    board = json.loads(render_dashboards.render(build_model(load_specs(specs_dir)))["grafana/dashboards/unified-cache-executive-overview.json"])
    assert _content(board)[0]["fieldConfig"]["defaults"]["thresholds"]["steps"][1] == {"color": "orange", "value": 0.6}
    trend = _content(board)[4]
    assert trend["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "transparent", "value": None}, {"color": "red", "value": 0.6}, {"color": "yellow", "value": 0.85}]


def test_response_time_is_green_at_the_bottom_and_red_at_the_top(boards) -> None:
    panel = _panel(boards, "Executive Overview", "Average Response Time")
    assert panel["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "green", "value": None}, {"color": "yellow", "value": 0.005},
        {"color": "orange", "value": 0.01}, {"color": "red", "value": 0.05}]
    assert panel["targets"][0]["expr"] == (
        'sum(rate(unified_cache_operation_duration_seconds_sum{job=~"$job", instance=~"$instance"}[$__rate_interval]))\n/\n'
        'sum(rate(unified_cache_operation_duration_seconds_count{job=~"$job", instance=~"$instance"}[$__rate_interval]))')


def test_trend_panel_has_the_guide_threshold_lines(boards) -> None:
    panel = _panel(boards, "Executive Overview", "Cache Hit Rate Trend (24h)")
    assert panel["type"] == "timeseries" and panel["timeFrom"] == "24h"
    defaults = panel["fieldConfig"]["defaults"]
    assert defaults["custom"]["thresholdsStyle"] == {"mode": "line"}
    assert defaults["thresholds"]["steps"] == [
        {"color": "transparent", "value": None}, {"color": "red", "value": 0.7}, {"color": "yellow", "value": 0.85}]
    assert panel["description"] == (
        "Percentage of requests served from L1 memory cache. Percentage of L1 misses served from L2 Redis cache. "
        "Total cache effectiveness across all levels.\n\n"
        "Threshold lines: Warning Threshold at 0.85 (yellow); Critical Threshold at 0.7 (red).")


def test_right_axis_becomes_an_override(boards) -> None:
    panel = _panel(boards, "Engineering Deep Dive", "Cache Size vs Performance")
    assert panel["fieldConfig"]["defaults"]["unit"] == "short"
    assert panel["fieldConfig"]["overrides"] == [{
        "matcher": {"id": "byFrameRefID", "options": "B"},
        "properties": [{"id": "unit", "value": "percentunit"}, {"id": "custom.axisPlacement", "value": "right"}]}]


def test_heatmap_reads_bucket_rates_in_heatmap_format(boards) -> None:
    panel = _panel(boards, "Operations Detail", "Response Time Distribution")
    assert panel["type"] == "heatmap"
    assert panel["options"]["calculate"] is False and panel["options"]["yAxis"]["unit"] == "s"
    [target] = panel["targets"]
    assert target["format"] == "heatmap" and target["legendFormat"] == "{{le}}"
    assert target["expr"] == ('sum by (le) (rate(unified_cache_operation_duration_seconds_bucket'
                              '{job=~"$job", instance=~"$instance"}[$__rate_interval]))')


def test_table_is_an_instant_table_query(boards) -> None:
    panel = _panel(boards, "Engineering Deep Dive", "Access Pattern Analysis")
    [target] = panel["targets"]
    assert (panel["type"], target["format"], target["instant"], target["range"]) == ("table", "table", True, False)
    assert panel["transformations"] == [{"id": "organize", "options": {
        "excludeByName": {"Time": True}, "indexByName": {}, "renameByName": {"Value": "Most Accessed Keys"}}}]


def test_guide_corrections(boards) -> None:
    exprs = {t["legendFormat"]: t["expr"] for board in boards.values() for _, t in _targets(board)}
    assert exprs["GC Collections/s"].startswith("sum(rate(python_gc_collections_total{")
    assert 'job=~"$job"' in exprs["Total Memory"] and "prompt-improver" not in exprs["Total Memory"]
    assert exprs["Redis Errors/min"].endswith(" * 60")
    assert exprs["Operations/sec"] == 'unified_cache_requests:rate5m{job=~"$job", instance=~"$instance"}'
    assert "on (job, instance)" in exprs["L1 Size %"]


@pytest.mark.parametrize("expr, expected", [
    ("up", 'up{job=~"$job", instance=~"$instance"}'),
    ("up{}", 'up{job=~"$job", instance=~"$instance"}'),
    ('up {a="b"}', 'up {job=~"$job", instance=~"$instance", a="b"}'),
    ('rate(x_total{a="}"}[$__rate_interval])', 'rate(x_total{job=~"$job", instance=~"$instance", a="}"}[$__rate_interval])'),
    ("a / on (job) group_left () b", 'a{job=~"$job", instance=~"$instance"} / on (job) group_left () b{job=~"$job", instance=~"$instance"}'),
    ('x{instance="h:1"} + x', 'x{job=~"$job", instance="h:1"} + x{job=~"$job", instance=~"$instance"}'),
    ("vector(1)", "vector(1)"),
])
def test_filtered_adds_the_variables_to_every_selector(expr, expected) -> None:
    assert filtered(expr) == expected


def test_lintable_keeps_offsets() -> None:
    expr = "rate(x[$__rate_interval]) + rate(y[${__interval}]) + z"
    assert lintable(expr) == "rate(x[000000000000005m]) + rate(y[000000000005m]) + z"
    assert len(lintable(expr)) == len(expr)


def test_colour_steps() -> None:
    assert list_steps([0.85, 0.90]) == [{"color": "red", "value": None}, {"color": "yellow", "value": 0.85},
                                        {"color": "green", "value": 0.9}]
    assert list_steps([5]) == [{"color": "red", "value": None}, {"color": "green", "value": 5}]
    assert list_steps([0.5, 0.1]) == [{"color": "green", "value": None}, {"color": "yellow", "value": 0.1},
                                      {"color": "red", "value": 0.5}]


def test_kpi_steps_for_a_band(specs) -> None:
    # l1_utilization: target 70-90%, warning >90%, critical >95%
    assert kpi_steps(specs.kpis["l1_utilization"]) == [
        {"color": "yellow", "value": None}, {"color": "green", "value": 0.7},
        {"color": "orange", "value": 0.9}, {"color": "red", "value": 0.95}]
    assert kpi_steps(specs.kpis["l1_size"]) is None


def test_layout_wraps_rows_without_overlap(specs) -> None:
    for dashboard in specs.dashboards.values():
        _assert_no_overlap(layout(dashboard.panels))


def test_dashboards_are_sorted_pretty_json(rendered) -> None:
    for text in rendered.values():
        assert text.endswith("}\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_long_uid_is_shortened_stably() -> None:
    long = stable_uid("unified-cache-" + "very-long-dashboard-name-" * 3)
    assert len(long) == 40 and long == stable_uid("unified-cache-" + "very-long-dashboard-name-" * 3)
    assert stable_uid("UnifiedConnectionManager") == "unifiedconnectionmanager"


# The alerts each bundled dashboard shows (monspec.model.placement): those on the series or KPIs
# its panels show, the scrape job's two absence alerts on each, and on the first dashboard
# (Cache Performance) the alerts no panel shows (the L2/L3 response-time and warming-size KPIs).
ABSENCE = ["UnifiedCacheTargetDown", "UnifiedCacheTargetMissing"]
TILES = {
    "UnifiedConnectionManager - Cache Performance": [
        "CacheHitRateCritical", "CacheHitRateWarning", "CachePerformanceExcellent", "L2ResponseTimeCritical",
        "L2ResponseTimeWarning", "L3ResponseTimeCritical", "L3ResponseTimeWarning", "WarmingKeysPerCycleCritical",
        "WarmingKeysPerCycleWarning", *ABSENCE],
    "UnifiedConnectionManager - Engineering Deep Dive": [
        "CacheResponseTimeCritical", "CacheWarmingIneffective", "CacheWarmingCompleted", "L1HitRateCritical",
        "L1HitRateWarning", "L1ResponseTimeWarning", *ABSENCE],
    "UnifiedConnectionManager - Executive Overview": [
        "CacheHitRateCritical", "RedisMasterDown", "RedisClusterDown", "CacheHitRateWarning", "CachePerformanceExcellent",
        "L1HitRateCritical", "L1HitRateWarning", "L2HitRateCritical", "L2HitRateWarning", "ThroughputCritical",
        "ThroughputWarning", *ABSENCE],
    "UnifiedConnectionManager - Operations Detail": [
        "RedisMasterDown", "RedisClusterDown", "DatabaseErrors", "L1CacheUtilizationHigh", "RedisConnectionErrors",
        "L1UtilizationCritical", "RedisReplicaConnectedCritical", *ABSENCE],
}


def test_each_dashboard_annotates_the_firing_of_its_own_alerts(boards) -> None:
    for title, board in boards.items():
        builtin, firing = board["annotations"]["list"]
        assert builtin["builtIn"] == 1 and builtin["datasource"] == {"type": "grafana", "uid": "-- Grafana --"}
        assert firing == {"datasource": {"type": "prometheus", "uid": "${datasource}"}, "enable": True, "hide": False,
                          "iconColor": "red", "name": "Firing alerts",
                          "expr": 'ALERTS{alertstate="firing", alertname=~"' + "|".join(TILES[title]) + '"}'}
        promql.parse(firing["expr"])


def test_each_dashboard_opens_with_the_state_of_its_alerts(boards, specs) -> None:
    model = build_model(specs)
    slo_alerts = [a.name for a in model.all_alert_rules if a.name.endswith(("1h", "6h", "1d", "3d"))]
    assert len(slo_alerts) == 8  # on the SLO dashboard (tests/dashboards/test_slo_dashboard.py)
    assert {n for names in TILES.values() for n in names} | set(slo_alerts) == {a.name for a in model.all_alert_rules}
    for title, board in boards.items():
        row, state, panels_row = board["panels"][:3]
        rows = -(-len(TILES[title]) // 6)  # 6 tiles a row, each 2 high
        assert (row["type"], row["gridPos"], row["collapsed"]) == ("row", {"h": 1, "w": 24, "x": 0, "y": 0}, False)
        assert state["type"] == "stat" and state["gridPos"] == {"h": 2 * rows, "w": 24, "x": 0, "y": 1}
        assert [t["legendFormat"] for t in state["targets"]] == TILES[title]
        assert [t["refId"] for t in state["targets"]][:3] == ["A", "B", "C"]
        assert state["targets"][0]["expr"] == (
            f'max(ALERTS{{alertname="{TILES[title][0]}", alertstate="firing"}}) * 2'
            f' or max(ALERTS{{alertname="{TILES[title][0]}", alertstate="pending"}}) or vector(0)')
        assert state["fieldConfig"]["defaults"]["mappings"] == [{"type": "value", "options": {
            "0": {"color": "green", "text": "OK"}, "1": {"color": "orange", "text": "Pending"},
            "2": {"color": "red", "text": "Firing"}}}]
        assert state["options"]["colorMode"] == "background" and state["options"]["textMode"] == "value_and_name"
        assert panels_row["gridPos"]["y"] == 2 * rows + 1 and min(p["gridPos"]["y"] for p in _content(board)) == 2 * rows + 2


def test_a_kpi_panel_links_to_the_runbook_and_the_rule_of_each_of_its_alerts(boards) -> None:
    panel = _panel(boards, "Executive Overview", "Overall Cache Performance")
    assert panel["description"] == "Total cache effectiveness across all levels."
    base = "https://runbooks.example.com/unified-cache/alerts.md"
    common = {"asDropdown": False, "icon": "external link", "includeVars": False, "keepTime": False, "tags": [],
              "targetBlank": True, "tooltip": "", "type": "link"}
    assert panel["links"] == [
        {**common, "title": "Runbook: CacheHitRateCritical", "url": f"{base}#cachehitratecritical"},
        {**common, "title": "Alert rule: CacheHitRateCritical", "url": "/alerting/list?search=rule%3ACacheHitRateCritical"},
        {**common, "title": "Runbook: CacheHitRateWarning", "url": f"{base}#cachehitratewarning"},
        {**common, "title": "Alert rule: CacheHitRateWarning", "url": "/alerting/list?search=rule%3ACacheHitRateWarning"},
    ]
    assert _panel(boards, "Executive Overview", "Average Response Time")["links"] == []  # not a KPI


def test_provisioning_settings_come_from_the_project(tmp_path) -> None:
    specs_dir = tmp_path / "specs"
    shutil.copytree(SPECS, specs_dir)
    project = specs_dir / "project.yaml"
    project.write_text(project.read_text() + "  grafana:\n    folder: Cache / Prod\n    folder_uid: cache-prod\n"
                       "    allow_ui_updates: true\n    folders_from_files_structure: true\n"
                       "    dashboards_path: /etc/grafana/dashboards\n    version: '10.4'\n")
    model = build_model(load_specs(specs_dir))
    [provider] = yaml.safe_load(provisioning.render(model)["grafana/provisioning/dashboards.yaml"])["providers"]
    assert (provider["folder"], provider["folderUid"], provider["allowUiUpdates"]) == ("Cache / Prod", "cache-prod", True)
    assert provider["options"] == {"path": "/etc/grafana/dashboards", "foldersFromFilesStructure": True}
    board = json.loads(render_dashboards.render(model)["grafana/dashboards/unified-cache-executive-overview.json"])
    assert (board["schemaVersion"], board["editable"]) == (39, True)


def test_series_aggregated_away_from_instance_get_no_instance_filter(tmp_path) -> None:
    """With $instance at All (`.+`), `instance=~"$instance"` hides a series recorded `by (job)`."""
    from monspec.model.catalog import build_catalog

    specs_dir = tmp_path / "specs"
    specs_dir.mkdir()
    (specs_dir / "all.yaml").write_text("""\
project: {name: api, title: API, job: api, runbook_base_url: "https://r.example.com/a.md"}
metrics:
  http_requests_total: {type: counter, unit: operations, help: Requests., labels: {code: any}}
recording_rules:
  - {record: "job:http_requests:rate5m", unit: ops, help: By job., expr: "sum by (job) (rate(http_requests_total[5m]))"}
  - {record: "instance:http_requests:rate5m", unit: ops, help: By instance., expr: "sum by (job, instance) (rate(http_requests_total[5m]))"}
""")
    catalog = build_catalog(load_specs(specs_dir))
    assert filtered("job:http_requests:rate5m", catalog.carries) == 'job:http_requests:rate5m{job=~"$job"}'
    assert filtered("instance:http_requests:rate5m / on (job) group_left job:http_requests:rate5m", catalog.carries) == (
        'instance:http_requests:rate5m{job=~"$job", instance=~"$instance"} / on (job) group_left '
        'job:http_requests:rate5m{job=~"$job"}')
    # A raw series still carries instance: filtering before the aggregation is what the variable means.
    assert filtered("sum by (code) (rate(http_requests_total[$__rate_interval]))", catalog.carries) == (
        'sum by (code) (rate(http_requests_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))')
