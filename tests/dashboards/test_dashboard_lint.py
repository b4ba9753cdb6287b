"""Dashboard lint: each malformed panel gives exact messages at file:line:col with a caret."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monspec.errors import SpecError
from monspec.lint import run_lint
from monspec.lint.dashboards import model_problems
from monspec.model import build_model
from monspec.spec import load_specs

FIXTURE = Path(__file__).parent.parent / "fixtures" / "golden_specs"

CASES = [
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Empty\n        visualization: stat\n',
                 "specs/bad.yaml:5:16: error: panel 'Empty' has no targets [dashboard/no-targets]\n        - title: Empty\n                 ^\n  hint: add `targets:` with at least one `expr`",
                 id='no-targets'),
    pytest.param('dashboards:\n  bad:\n    title: Shop API - Overview\n    panels:\n      - title: Twice\n        visualization: stat\n        targets: [{expr: shop_error_ratio}]\n      - title: Twice\n        visualization: timeseries\n        targets: [{expr: shop_queue_utilization}]\n',
                 "specs/bad.yaml:8:16: error: panel title 'Twice' appears twice in dashboard `bad` [dashboard/duplicate-title]\n        - title: Twice\n                 ^\n  also at specs/bad.yaml:5:16\nspecs/dashboards.yaml:5:12: error: dashboard title 'Shop API - Overview' is also used by dashboard `bad` [dashboard/duplicate-title]\n      title: Shop API - Overview\n             ^\n  also at specs/bad.yaml:3:12",
                 id='duplicate-title'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Latency\n        visualization: stat\n        unit: secs\n        targets:\n          - expr: shop_request_duration_seconds:p99\n            unit: milliseconds\n',
                 'specs/bad.yaml:7:15: error: unknown unit `secs` [dashboard/unknown-unit]\n          unit: secs\n                ^\n  hint: did you mean `seconds`?\nspecs/bad.yaml:10:19: error: unknown unit `milliseconds` [dashboard/unknown-unit]\n              unit: milliseconds\n                    ^\n  hint: did you mean `seconds`?',
                 id='unknown-unit'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Queue\n        visualization: stat\n        targets:\n          - expr: max(shop_queue_utilization)\n            thresholds: [0.5, 0.9, 0.7]\n',
                 'specs/bad.yaml:9:25: error: colour steps [0.5, 0.9, 0.7] are neither strictly ascending nor strictly descending [dashboard/threshold-order]\n              thresholds: [0.5, 0.9, 0.7]\n                          ^\n  hint: worst first: ascending when higher is better, descending when lower is better',
                 id='threshold-order'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Errors\n        visualization: stat\n        targets:\n          - kpi: error_ratio\n            thresholds: [0.05, 0.02]\n',
                 'specs/bad.yaml:9:13: error: `thresholds` restate KPI `error_ratio`: a panel showing a KPI takes its colours from the KPI [dashboard/restated-threshold]\n              thresholds: [0.05, 0.02]\n              ^\n  hint: remove `thresholds`, or change the KPI in kpis.yaml',
                 id='restated-threshold'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Errors\n        visualization: stat\n        description: Failing requests.\n        targets:\n          - kpi: eror_ratio\n',
                 'specs/bad.yaml:9:18: error: unknown KPI `eror_ratio` [dashboard/unknown-kpi]\n            - kpi: eror_ratio\n                   ^\n  hint: did you mean `error_ratio`?',
                 id='target-kpi'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Errors\n        visualization: stat\n        targets:\n          - {kpi: error_ratio, expr: shop_error_ratio}\n',
                 'specs/bad.yaml:8:32: error: give exactly one of `expr` or `kpi` [spec/invalid]\n            - {kpi: error_ratio, expr: shop_error_ratio}\n                                 ^',
                 id='target-kpi-and-expr'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Errors\n        visualization: timeseries\n        targets: [{expr: shop_error_ratio}]\n        thresholds:\n          - {kpi: eror_ratio, level: warning, color: red}\n          - {kpi: latency_p99, level: warning, color: red}\n',
                 'specs/bad.yaml:9:19: error: unknown KPI `eror_ratio` [dashboard/unknown-kpi]\n            - {kpi: eror_ratio, level: warning, color: red}\n                    ^\n  hint: did you mean `error_ratio`?\nspecs/bad.yaml:10:39: error: KPI `latency_p99` has no one-sided `warning` threshold [dashboard/unknown-kpi]\n            - {kpi: latency_p99, level: warning, color: red}\n                                        ^',
                 id='unknown-kpi'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Memory\n        visualization: timeseries\n        targets:\n          - expr: shop_queue_utilization{job="prompt-improver"}\n',
                 'specs/bad.yaml:8:42: error: `job` is fixed to "prompt-improver": dashboards select it with the $job variable [dashboard/fixed-target-label]\n            - expr: shop_queue_utilization{job="prompt-improver"}\n                                           ^\n  hint: remove the `job` matcher; every query is filtered on $job and $instance',
                 id='fixed-job'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Traffic\n        visualization: timeseries\n        targets:\n          - expr: sum(rate(shop_requests_total[$__rate_interval]) + ) \n',
                 'specs/bad.yaml:8:69: error: invalid PromQL in panel `Traffic`: unexpected ")" in aggregation [promql/syntax]\n            - expr: sum(rate(shop_requests_total[$__rate_interval]) + ) \n                                                                      ^',
                 id='promql-syntax-after-variable'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Traffic\n        visualization: timeseries\n        targets:\n          - expr: rate(shop_requests_total[$__rate_interval]) / rate(shop_request_total[$__rate_interval])\n',
                 'specs/bad.yaml:8:70: error: unknown metric `shop_request_total` in panel `Traffic` [promql/unknown-metric]\n            - expr: rate(shop_requests_total[$__rate_interval]) / rate(shop_request_total[$__rate_interval])\n                                                                       ^\n  hint: did you mean `shop_requests_total`?',
                 id='unknown-metric-after-variable'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Errors\n        visualization: stat\n        targets: [{expr: shop_error_ratio}]\n        thresholds:\n          - {value: 0.1, color: red}\n',
                 'specs/bad.yaml:9:11: error: threshold lines need a timeseries panel, this one is a stat [dashboard/line-panel]\n            - {value: 0.1, color: red}\n            ^\n  hint: give the target `thresholds: [...]` colour steps instead',
                 id='lines-on-stat'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    uid: "has space"\n    panels:\n      - title: Errors\n        visualization: graph\n        targets: [{expr: shop_error_ratio}]\n        thresholds:\n          - {value: 0.1, kpi: error_ratio, color: red}\n',
                 'specs/bad.yaml:4:10: error: `uid`: a Grafana uid is 1-40 letters, digits, `-` or `_`, got \'has space\' [spec/invalid]\n      uid: "has space"\n           ^\nspecs/bad.yaml:10:14: error: give exactly one of `value` or `kpi` (with `level`) [spec/invalid]\n            - {value: 0.1, kpi: error_ratio, color: red}\n               ^',
                 id='bad-color-and-uid'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Queue\n        visualization: stat\n        targets: [{expr: max(shop_queue_utilization)}]\n      - title: Errors\n        visualization: stat\n        targets: [{kpi: error_ratio}]\n      - title: Queue again\n        visualization: stat\n        description: Share of the queue in use.\n        targets: [{expr: max(shop_queue_utilization)}]\n',
                 "specs/bad.yaml:5:16: warning: panel 'Queue' has no description [dashboard/panel-description]\n        - title: Queue\n                 ^\n  hint: add `description:` saying what it shows and what a bad value means (a panel showing a KPI takes the KPI's)",
                 id='panel-description'),
    pytest.param('dashboards:\n  bad:\n    title: Bad\n    panels:\n      - title: Traffic\n        visualization: timeseries\n        description: Requests per second.\n        targets:\n          - expr: sum(rate(shop_requests_total[5m])) + sum(irate(shop_requests_total[$__rate_interval]))\n          - expr: sum(increase(shop_requests_total[ 1h ])) + max_over_time(shop_queue_utilization[5m])\n      - title: Quiet\n        visualization: timeseries\n        description: Disabled with a reason.\n        lint: {disable: [dashboard/rate-interval], reason: the hourly view is the point}\n        targets: [{expr: "sum(increase(shop_requests_total[1h]))"}]\n',
                 "specs/bad.yaml:9:47: warning: rate() over [5m] in panel 'Traffic': a fixed window shows nothing when zoomed in and hides spikes when zoomed out [dashboard/rate-interval]\n            - expr: sum(rate(shop_requests_total[5m])) + sum(irate(shop_requests_total[$__rate_interval]))\n                                                ^\n  hint: use [$__rate_interval], which Grafana sizes to the step and the scrape interval\n"
                 "specs/bad.yaml:10:51: warning: increase() over [ 1h ] in panel 'Traffic': a fixed window shows nothing when zoomed in and hides spikes when zoomed out [dashboard/rate-interval]\n            - expr: sum(increase(shop_requests_total[ 1h ])) + max_over_time(shop_queue_utilization[5m])\n                                                    ^\n  hint: use [$__rate_interval], which Grafana sizes to the step and the scrape interval",
                 id='rate-interval'),
]


@pytest.mark.parametrize("spec, expected", CASES)
def test_bad_dashboard_is_reported_exactly(spec: str, expected: str, tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(FIXTURE, tmp_path / "specs")
    (tmp_path / "specs" / "bad.yaml").write_text(spec)
    monkeypatch.chdir(tmp_path)
    try:
        problems = run_lint(build_model(load_specs(Path("specs"))))
    except SpecError as exc:
        problems = exc.problems
    if "[dashboard/panel-description]" not in expected:  # the panels of other cases have no description either
        problems = [p for p in problems if p.id != "dashboard/panel-description"]
    assert "\n".join(p.render() for p in problems) == expected


def test_a_broken_kpi_on_a_dashboard_is_reported_once(tmp_path: Path, monkeypatch) -> None:
    """The dashboard names the KPI; its expression is checked at the KPI only, not again at the panel."""
    shutil.copytree(FIXTURE, tmp_path / "specs")
    kpis = tmp_path / "specs" / "kpis.yaml"
    kpis.write_text(kpis.read_text().replace("expr: shop_error_ratio\n", "expr: shop_error_ratio{\n", 1))
    monkeypatch.chdir(tmp_path)
    problems = run_lint(build_model(load_specs(Path("specs"))))
    assert [p.render() for p in problems] == [
        "specs/kpis.yaml:3:28: error: invalid PromQL in kpi `error_ratio`: unexpected end of input inside braces "
        "[promql/syntax]\n      expr: shop_error_ratio{\n                             ^"]


def test_the_fixture_dashboard_lints_clean(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(FIXTURE, tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    assert [p.render() for p in run_lint(build_model(load_specs(Path("specs"))))] == []


def test_editable_dashboards_are_reported_at_the_setting(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(FIXTURE, tmp_path / "specs")
    project = tmp_path / "specs" / "project.yaml"
    project.write_text(project.read_text() + "  grafana:\n    allow_ui_updates: true\n")
    monkeypatch.chdir(tmp_path)
    assert [p.render() for p in run_lint(build_model(load_specs(Path("specs"))))] == [
        "specs/project.yaml:15:23: warning: provisioned dashboards are editable in the UI (`allow_ui_updates: true`): "
        "edits there are lost when Grafana reloads the files [dashboard/editable]\n      allow_ui_updates: true\n"
        "                        ^\n  hint: change the specs instead; or keep it with "
        "`lint: {disable: [dashboard/editable], reason: …}`"]


def test_an_editable_choice_with_a_reason_is_quiet(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(FIXTURE, tmp_path / "specs")
    project = tmp_path / "specs" / "project.yaml"
    project.write_text(project.read_text() + "  grafana:\n    allow_ui_updates: true\n    lint:\n"
                       "      disable: [dashboard/editable]\n      reason: the team tries changes in the UI first\n")
    monkeypatch.chdir(tmp_path)
    model = build_model(load_specs(Path("specs")))
    assert [p.render() for p in run_lint(model)] == []
    from monspec.render.dashboards import dashboard_json
    assert dashboard_json(model, "overview", model.specs.dashboards["overview"])["editable"] is True


def _model() -> dict:
    from monspec.render.dashboards import dashboard_json

    model = build_model(load_specs(FIXTURE))
    return dashboard_json(model, "overview", model.specs.dashboards["overview"])


def test_the_rendered_dashboard_meets_the_variable_rules() -> None:
    assert model_problems(_model()) == []


def test_a_single_select_job_variable_is_reported() -> None:
    model = _model()
    job = next(v for v in model["templating"]["list"] if v["name"] == "job")
    job["multi"] = False
    assert model_problems(model) == [
        ("dashboard/job-variable", "dashboard 'shop-api-overview': the `job` variable is not multi-select")]
    job["multi"], job["allValue"], job["label"] = True, ".*", "job"
    instance = next(v for v in model["templating"]["list"] if v["name"] == "instance")
    instance["type"] = "custom"
    assert model_problems(model) == [
        ("dashboard/job-variable", "dashboard 'shop-api-overview': the `job` variable is not labelled 'Job', "
                                   "not with All as `.+`"),
        ("dashboard/instance-variable", "dashboard 'shop-api-overview': the `instance` variable is not a query variable")]


def test_a_fixed_datasource_is_reported() -> None:
    model = _model()
    panel = next(p for p in model["panels"] if p["type"] == "timeseries")
    panel["targets"][1]["datasource"] = {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}
    model["templating"]["list"] = [v for v in model["templating"]["list"] if v["name"] != "datasource"]
    assert model_problems(model) == [
        ("dashboard/datasource-variable", "dashboard 'shop-api-overview' has no `datasource` variable of the "
                                          "prometheus type labelled 'Data source'"),
        ("dashboard/datasource-variable", "dashboard 'shop-api-overview': panel 'Traffic and errors' query B does not use "
                                          "the `$datasource` variable"),
    ]
