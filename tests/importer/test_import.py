"""`monspec import`: real-world rule files round-trip into specs that generate the same rules."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import promql_parser as pp
import pytest
import yaml

from monspec.build import compile_specs
from monspec.errors import SpecError
from monspec.importer import import_file
from monspec.spec import load_specs
from support.processes import require_program

CASES = sorted((Path(__file__).parent / "cases").glob("*.y*ml"))
TESTS = Path(__file__).parent.parent
FIXTURE = TESTS / "fixtures" / "golden_specs"


def groups_of(text: str) -> list[dict]:
    """Groups of a rule file or PrometheusRule manifests, scalars as text (as Prometheus reads them)."""
    groups = []
    for doc in yaml.load_all(text, Loader=yaml.BaseLoader):
        if not doc:
            continue
        groups += doc["spec"]["groups"] if doc.get("kind") == "PrometheusRule" else doc["groups"]
    return groups


def semantic(groups: list[dict]) -> list:
    """What Prometheus evaluates: group name, interval, limit, and each rule with its expression normalised."""
    return [(g["name"], g.get("interval"), g.get("limit"),
             [(("record", r["record"]) if "record" in r else ("alert", r["alert"]),
               pp.parse(r["expr"]).prettify(), r.get("for"), r.get("keep_firing_for"),
               r.get("labels") or {}, r.get("annotations") or {}) for r in g["rules"]])
            for g in groups]


def _import_alone(case: Path, tmp_path: Path) -> tuple[Path, dict]:
    specs = tmp_path / "specs"
    specs.mkdir()
    result = import_file(case)
    (specs / "imported.yaml").write_text(result.text)
    build = compile_specs(specs)
    return specs, build


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_import_round_trips(case: Path, tmp_path: Path) -> None:
    _, build = _import_alone(case, tmp_path)
    rules = build.files["prometheus/rules.yml"].decode()
    original = groups_of(case.read_text())
    assert semantic(groups_of(rules)) == semantic(original)
    # Expression text is even kept verbatim, not just equivalent.
    assert [r["expr"] for g in groups_of(rules) for r in g["rules"]] == [r["expr"] for g in original for r in g["rules"]]
    # Only warnings (unverified metrics) — never an error.
    assert {p.id for p in build.problems} <= {"catalog/unverified"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_promtool_accepts_the_regenerated_rules(case: Path, tmp_path: Path) -> None:
    require_program("promtool")
    _, build = _import_alone(case, tmp_path)
    out = tmp_path / "rules.yml"
    out.write_bytes(build.files["prometheus/rules.yml"])
    plain = case
    if "kind: PrometheusRule" in case.read_text():  # a manifest's groups as a plain rule file promtool reads
        plain = tmp_path / "original.yml"
        plain.write_text(yaml.safe_dump({"groups": [g for d in yaml.safe_load_all(case.read_text()) for g in d["spec"]["groups"]]}))
    original = subprocess.run(["promtool", "check", "rules", str(plain)], capture_output=True, text=True)
    assert original.returncode == 0, original.stdout + original.stderr
    result = subprocess.run(["promtool", "check", "rules", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(g["rules"]) for g in groups_of(case.read_text()))
    assert f"SUCCESS: {count} rules found" in result.stdout


def test_unverified_metrics_and_known_recorded_series() -> None:
    result = import_file(Path(__file__).parent / "cases" / "prometheusrule.yaml")
    # payments_request_duration_seconds is a histogram (its _bucket feeds histogram_quantile);
    # the recorded p99 is not a metric; `up` is Prometheus' own.
    assert result.unverified == ["payments_queue_depth", "payments_queue_depth_count", "payments_queue_depth_sum",
                                 "payments_request_duration_seconds"]
    data = yaml.safe_load(result.text)
    assert data["metrics"]["payments_request_duration_seconds"] == {
        "type": "histogram", "unit": "seconds", "unverified": True,
        "help": "Read by rules imported from prometheusrule.yaml; not yet checked against the exporter."}
    assert data["metrics"]["payments_queue_depth_count"]["type"] == "counter"
    assert data["project"] == {"name": "prometheusrule", "title": "prometheusrule", "job": "prometheusrule",
                               "runbook_base_url": "https://runbooks.example.com/prometheusrule/alerts.md",
                               "absence_alert": False,
                               # The manifest's metadata is kept: the regenerated PrometheusRule lands in the same
                               # namespace under the same name, with the label its ruleSelector looks for.
                               "kubernetes": {"name": "payments", "namespace": "monitoring",
                                              "labels": {"release": "kube-prometheus-stack"}}}
    assert list(data["rule_groups"]) == ["payments.recording", "payments.alerts", "payments.extra"]


def test_regenerated_manifest_keeps_the_imported_metadata(tmp_path: Path) -> None:
    _, build = _import_alone(Path(__file__).parent / "cases" / "prometheusrule.yaml", tmp_path)
    manifest = yaml.safe_load(build.files["kubernetes/prometheusrule.yaml"])
    assert manifest["metadata"] == {"name": "payments", "namespace": "monitoring", "labels": {
        "app.kubernetes.io/managed-by": "monspec", "app.kubernetes.io/name": "prometheusrule",
        "release": "kube-prometheus-stack"}}


def test_lint_warns_about_unverified_metrics_with_position(tmp_path: Path) -> None:
    _, build = _import_alone(Path(__file__).parent / "cases" / "basic.yml", tmp_path)
    assert [p.render() for p in build.problems] == [f"""\
{tmp_path}/specs/imported.yaml:15:3: warning: metric `http_requests_total` is unverified: it was imported, not checked against the exporter [catalog/unverified]
    http_requests_total:
    ^
  hint: confirm each one's type, unit, labels and help, then remove `unverified: true`"""]


def test_unverified_metrics_are_one_warning_per_file(tmp_path: Path) -> None:
    _, build = _import_alone(Path(__file__).parent / "cases" / "prometheusrule.yaml", tmp_path)
    [problem] = [p for p in build.problems if p.id == "catalog/unverified"]
    assert problem.message == ("4 metrics are unverified: they were imported, not checked against the exporter: "
                               "`payments_queue_depth`, `payments_queue_depth_count`, `payments_queue_depth_sum`, "
                               "`payments_request_duration_seconds`")


def test_import_joins_an_existing_specs_folder(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    rules = tmp_path / "legacy.yml"
    rules.write_text("""\
groups:
  - name: legacy
    rules:
      - alert: QueueFullForever
        expr: shop_queue_utilization >= 1 and on (job) legacy_queue_stalled == 1
        for: 1h
        labels: {severity: warning}
""")
    result = import_file(rules, load_specs(specs))
    assert not result.wrote_project and "project:" not in result.text
    assert result.unverified == ["legacy_queue_stalled"]  # shop_queue_utilization is in the catalog
    (specs / "legacy.yaml").write_text(result.text)
    build = compile_specs(specs)
    groups = groups_of(build.files["prometheus/rules.yml"].decode())
    assert [g["name"] for g in groups] == ["shop-api.recording", "shop-api.alerts", "legacy"]
    assert groups[2]["rules"][0] == {"alert": "QueueFullForever", "for": "1h", "labels": {"severity": "warning"},
                                     "expr": "shop_queue_utilization >= 1 and on (job) legacy_queue_stalled == 1"}
    # The project's routing covers the imported alert as well: severity=warning, no team label -> default.
    assert load_specs(specs).routing.receivers_for({"alertname": "QueueFullForever", "severity": "warning"}) == ["shop-default"]


def _problems(tmp_path: Path, text: str, existing=None) -> list[str]:
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(SpecError) as exc:
        import_file(path, existing)
    return [p.render().replace(str(tmp_path) + "/", "") for p in exc.value.problems]


def test_bad_inputs_are_reported_with_positions(tmp_path: Path) -> None:
    assert _problems(tmp_path, "kind: ConfigMap\ndata: {}\n") == ["""\
bad.yml:1:1: error: expected a Prometheus rule file (`groups:`) or a PrometheusRule manifest (`kind: PrometheusRule`) [import/not-rules]
  kind: ConfigMap
  ^"""]
    assert _problems(tmp_path, """\
groups:
  - name: thanos
    partial_response_strategy: warn
    rules:
      - alert: A
        expr: sum(rate(x[5m]) > 1
        for: 5 minutes
  - name: thanos
    rules:
      - record: b
        alert: B
        expr: up
""") == [
        """\
bad.yml:3:32: error: unsupported group field `partial_response_strategy` [import/unsupported]
      partial_response_strategy: warn
                                 ^
  hint: monspec keeps name, interval, limit, rules""",
        """\
bad.yml:6:15: error: invalid PromQL: unclosed left parenthesis [promql/syntax]
          expr: sum(rate(x[5m]) > 1
                ^""",
        """\
bad.yml:7:14: error: `for`: invalid duration '5 minutes': use a number and a unit, largest unit first, e.g. "30s", "5m", "1h30m" (units: ms, s, m, h, d, w, y) [import/invalid]
          for: 5 minutes
               ^""",
        """\
bad.yml:10:9: error: a rule needs exactly one of `record` or `alert` [import/invalid]
        - record: b
          ^""",
    ]


def test_duplicate_group_names_are_refused(tmp_path: Path) -> None:
    text = "groups:\n  - name: a\n    rules: [{record: x, expr: up}]\n  - name: a\n    rules: [{record: y, expr: up}]\n"
    assert _problems(tmp_path, text) == ["""\
bad.yml:4:11: error: rule group `a` is defined twice [import/duplicate-group]
    - name: a
            ^"""]
    text = "groups:\n  - name: shop-api.alerts\n    rules: [{record: x, expr: up}]\n"
    assert _problems(tmp_path, text, load_specs(FIXTURE)) == ["""\
bad.yml:2:11: error: rule group `shop-api.alerts` is defined twice (the specs already have it) [import/duplicate-group]
    - name: shop-api.alerts
            ^"""]


def _cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "monspec.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_cli_import_then_generate(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parent / "cases" / "basic.yml", tmp_path / "rules.yml")
    result = _cli(["import", "rules.yml", "--out", "specs/imported.yaml", "--name", "Web App"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("imported 1 group(s), 2 rule(s) into specs/imported.yaml; "
                             "1 metric(s) marked unverified: http_requests_total\n")
    assert "  name: web-app\n" in (tmp_path / "specs" / "imported.yaml").read_text()
    again = _cli(["import", "rules.yml", "--out", "specs/imported.yaml"], tmp_path)
    assert again.returncode == 1
    assert again.stderr.splitlines()[0] == "error: specs/imported.yaml exists: pass --force to overwrite it [monspec/error]"
    forced = _cli(["import", "rules.yml", "--out", "specs/imported.yaml", "--force", "--name", "web-app"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "project:" in (tmp_path / "specs" / "imported.yaml").read_text()  # its own project is not "existing"
    generated = _cli(["generate"], tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert semantic(groups_of((tmp_path / "generated/prometheus/rules.yml").read_text())) == \
        semantic(groups_of((tmp_path / "rules.yml").read_text()))
    stdout = _cli(["import", "rules.yml"], tmp_path)
    assert stdout.returncode == 0 and stdout.stdout.startswith("# Imported by `monspec import` from rules.yml.\n")


def test_lint_of_hand_edited_rule_groups(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    (specs / "legacy.yaml").write_text("""\
rule_groups:
  shop-api.alerts:
    rules:
      - alert: Typo
        expr: shop_queue_utilisation > 1
""")
    from monspec.build import lint_specs
    _, problems = lint_specs(specs)
    assert [p.render().replace(str(tmp_path) + "/", "") for p in problems if p.id != "catalog/unverified"] == [
        """\
specs/legacy.yaml:2:3: error: rule group `shop-api.alerts` is also the name of the project's generated group [rule-group/duplicate-name]
    shop-api.alerts:
    ^
  hint: rename the imported group""",
        """\
specs/legacy.yaml:5:15: error: unknown metric `shop_queue_utilisation` in Typo [promql/unknown-metric]
          expr: shop_queue_utilisation > 1
                ^
  hint: did you mean `shop_queue_utilization`?""",
    ]


def test_an_error_in_a_nested_spec_file_of_the_joined_folder_names_that_file(tmp_path: Path) -> None:
    """Re-importing over one file leaves it out of the joined specs; the others are read where they are."""
    from monspec.importer import existing_specs

    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    (specs / "imported.yaml").write_text("not: [valid")
    (specs / "team").mkdir()
    (specs / "team" / "extra.yaml").write_text("metrics:\n  x_total: {type: counter, unit: ops, help: h, aggregation: nope}\n")
    with pytest.raises(SpecError) as raised:
        existing_specs(specs, specs / "imported.yaml")
    [problem] = raised.value.problems
    assert problem.position is not None
    assert (problem.position.file.resolve(), problem.position.line, problem.position.col) == \
        ((specs / "team" / "extra.yaml").resolve(), 2, 61)
