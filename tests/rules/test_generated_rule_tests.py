"""generated/prometheus/tests/ pins every threshold and `for`: the tests pass against the rules
they load (the same rules as rules.yml), and fail when a threshold is nudged or a `for` doubled."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from monspec.build import compile_specs
from monspec.model.rules import alert_rules, recording_rules
from monspec.output import write_tree
from monspec.spec import load_specs
from monspec.spec.durations import format_duration, parse_duration
from monspec.toolcheck.unit_tests import parse_promtool_failures, promtool_test_folder

SPECS = Path(__file__).resolve().parents[2] / "specs"

COMPARISON = re.compile(r"(==|!=|>=|<=|>|<)(\s*)(\d+(?:\.\d+)?(?:e[-+]?\d+)?)")


def _test_files(generated: Path) -> list[Path]:
    return sorted((generated / "prometheus" / "tests").glob("*.yml"))


def _test_groups(generated: Path) -> list[dict]:
    return [group for path in _test_files(generated) for group in yaml.safe_load(path.read_text())["tests"]]


def _not_covered(generated: Path) -> list[str]:
    return [line for path in _test_files(generated) for line in path.read_text().splitlines()
            if line.startswith("# Not covered")]


def test_every_rule_of_the_bundled_specs_is_covered(generated: Path) -> None:
    assert _not_covered(generated) == []
    names = [group["name"] for group in _test_groups(generated)]
    specs = load_specs(SPECS)
    for alert in alert_rules(specs):
        assert any(n.startswith(f"{alert.name} fires: ") for n in names), alert.name
        assert any(n.startswith(f"{alert.name} stays quiet: ") for n in names), alert.name
    assert sum(n.startswith("recording rule ") for n in names) == len(recording_rules(specs))
    # The compound alerts get one quiet test per condition.
    assert sum(n.startswith("RedisClusterDown stays quiet: ") for n in names) == 2
    assert "RedisClusterDown fires: 0 inside == 0 and 0 inside == 0" in names


def test_fires_tests_assert_pending_then_firing_with_exact_annotations(generated: Path) -> None:
    group = next(g for g in _test_groups(generated) if g["name"].startswith("CacheHitRateCritical fires: "))
    assert group["name"] == "CacheHitRateCritical fires: 0.686 inside < 0.7"
    pending, firing = group["alert_rule_test"]
    assert pending == {"eval_time": "2m", "alertname": "CacheHitRateCritical", "exp_alerts": []}
    assert firing["eval_time"] == "2m30s"
    [alert] = firing["exp_alerts"]
    assert alert["exp_labels"]["cache_level"] == "overall"
    assert alert["exp_annotations"]["summary"] == "Cache hit rate critically low at 68.6%"
    # Raw counters feed the recording rule: 686 hits and 314 other lookups per second (x 15s per input
    # step; whole rates keep every sum exact in any order); the other status is the catalog's first
    # non-hit value (status: [hit, miss, error] sorted).
    values = {s["series"]: s["values"] for s in group["input_series"]}
    assert values['unified_cache_operations_total{cache_level="l1",instance="127.0.0.1:8000",job="unified-cache",status="hit"}'] == "0+10290x10"
    assert values['unified_cache_operations_total{cache_level="l1",instance="127.0.0.1:8000",job="unified-cache",status="error"}'] == "0+4710x10"


def test_generated_tests_pass_with_promtool(promtool: str, generated: Path) -> None:
    results = promtool_test_folder(generated / "prometheus" / "tests")
    assert [r.name.rsplit("/", 1)[1] for r in results] == [
        f"{path.name}" for path in _test_files(generated)]
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]


def test_each_test_file_loads_only_rules_of_rules_yml_in_their_groups(generated: Path) -> None:
    """The per-file rule files are rules.yml cut down: every rule as rules.yml has it, in its group,
    and together they hold every rule a test reads (so a test never runs against another text)."""
    full = yaml.safe_load((generated / "prometheus" / "rules.yml").read_text())["groups"]
    rules_of = {group["name"]: group["rules"] for group in full}
    seen = []
    for path in _test_files(generated):
        test = yaml.safe_load(path.read_text())
        [rule_file] = test["rule_files"]
        groups = yaml.safe_load((path.parent / rule_file).read_text())["groups"]
        assert test["group_eval_order"] == [g["name"] for g in groups]
        for group in groups:
            rules = group["rules"]
            assert [r for r in rules_of[group["name"]] if r in rules] == rules, path.name
            seen += [r for r in rules if "alert" in r]
    alerts = [r for group in full for r in group["rules"] if "alert" in r]
    # Every alert in some file (an SLO's step files share its group, so its alerts are in two).
    assert sorted({r["alert"] for r in seen}) == sorted(r["alert"] for r in alerts)


def test_a_test_file_evaluates_its_chain_only(generated: Path) -> None:
    """The hit-ratio file loads the three hit-ratio rules and the alerts on them, nothing else."""
    rules = yaml.safe_load((generated / "prometheus" / "tests" / "rules" / "unified_cache_hit_ratio.yml").read_text())
    recording, alerting = rules["groups"]
    assert [(r["record"], r["labels"]["cache_level"]) for r in recording["rules"]] == [
        ("unified_cache_hit_ratio", level) for level in ("l1", "l2", "overall")]
    assert {r["alert"] for r in alerting["rules"]} == {
        "CacheHitRateCritical", "CacheHitRateWarning", "CachePerformanceExcellent", "L1HitRateCritical",
        "L1HitRateWarning", "L2HitRateCritical", "L2HitRateWarning"}


def _mutated(generated: Path, tmp_path: Path, name: str, mutate) -> subprocess.Popen:
    """The generated tests run against their rule files with `mutate` applied to every rule. The SLO
    files are left out: their alerts are not the spec's (`alert_rules`), test_slo_rule_tests mutates
    them, and they are half of promtool's time."""
    folder = tmp_path / name
    shutil.copytree(generated / "prometheus" / "tests", folder)
    for path in sorted((folder / "rules").glob("*.yml")):
        rules = yaml.safe_load(path.read_text())
        for group in rules["groups"]:
            for rule in group["rules"]:
                mutate(rule)
        path.write_text(yaml.safe_dump(rules, sort_keys=False))
    files = sorted(p.name for p in folder.glob("*.yml") if not p.name.startswith("slo-"))
    return subprocess.Popen(["promtool", "test", "rules", *files], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _nudge(factor: float):
    def mutate(rule: dict) -> None:
        if "alert" in rule:
            rule["expr"] = COMPARISON.sub(
                lambda m: m.group(0) if float(m.group(3)) == 0 else f"{m.group(1)}{m.group(2)}{float(m.group(3)) * factor!r}",
                rule["expr"])
    return mutate


def _nudge_zero(rule: dict) -> None:
    """`> 0` becomes `> 1`, `== 0` becomes `== 1` (CacheWarmingCompleted's `> 0` once survived this)."""
    if "alert" in rule:
        rule["expr"] = COMPARISON.sub(lambda m: f"{m.group(1)}{m.group(2)}1" if float(m.group(3)) == 0 else m.group(0), rule["expr"])


def _double_for(rule: dict) -> None:
    if "alert" in rule and "for" in rule:
        rule["for"] = format_duration(2 * parse_duration(rule["for"]))


def _failed_alerts(proc: subprocess.Popen) -> set[str]:
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, output
    return {case.split(" ", 1)[0] for case, _ in parse_promtool_failures(output)}


def test_nudged_thresholds_and_doubled_for_fail(promtool: str, generated: Path, tmp_path: Path) -> None:
    specs = load_specs(SPECS)
    rules = alert_rules(specs)
    with_threshold = {r.name for r in rules if any(float(m.group(3)) != 0 for m in COMPARISON.finditer(r.expr))}
    with_for = {r.name for r in rules if r.for_}
    with_zero = {r.name for r in rules if r.origin != "absence" and any(float(m.group(3)) == 0 for m in COMPARISON.finditer(r.expr))}
    assert len(with_threshold) >= 20 and len(with_for) >= 20
    assert {"CacheWarmingCompleted", "RedisClusterDown"} <= with_zero
    runs = {
        "up": _mutated(generated, tmp_path, "up", _nudge(1.05)),
        "down": _mutated(generated, tmp_path, "down", _nudge(0.95)),
        "for": _mutated(generated, tmp_path, "for", _double_for),
        "zero": _mutated(generated, tmp_path, "zero", _nudge_zero),
    }
    failed = {name: _failed_alerts(proc) for name, proc in runs.items()}
    assert with_threshold - failed["up"] == set()
    assert with_threshold - failed["down"] == set()
    assert with_for - failed["for"] == set()
    assert with_zero - failed["zero"] == set()


def test_a_changed_recording_rule_fails_its_expression_test(promtool: str, generated: Path, tmp_path: Path) -> None:
    def mutate(rule: dict) -> None:
        if rule.get("record") == "unified_cache_operation_duration_seconds:p95":
            rule["expr"] = rule["expr"].replace("histogram_quantile(0.95,", "histogram_quantile(0.9,")
        if rule.get("record") == "unified_cache_hit_ratio" and rule["labels"] == {"cache_level": "l1"}:
            rule["expr"] = rule["expr"].replace('status="hit"', 'status="miss"')

    output, _ = _mutated(generated, tmp_path, "record", mutate).communicate(timeout=300)
    cases = [case for case, _ in parse_promtool_failures(output)]
    for level in ("l1", "l2", "l3"):
        assert f'expr "unified_cache_operation_duration_seconds:p95{{cache_level=\\"{level}\\"}}" at 10m' in cases, output
    assert 'expr "unified_cache_hit_ratio{cache_level=\\"l1\\"}" at 10m' in cases, output
    assert 'expr "unified_cache_hit_ratio{cache_level=\\"l2\\"}" at 10m' not in cases


def test_golden_fixture_tests_pass_and_name_what_they_cannot_cover(promtool: str, tmp_path: Path) -> None:
    import shutil


    fixture = SPECS.parent / "tests" / "fixtures" / "golden_specs"
    build = compile_specs(fixture)
    write_tree(tmp_path / "out", build.files)
    assert _not_covered(tmp_path / "out") == []
    results = promtool_test_folder(tmp_path / "out" / "prometheus" / "tests")
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]

    # A description holding `{{ and }}` as text cannot be expanded by Prometheus' template
    # engine: the alert is named as not covered instead of guessed.
    broken = tmp_path / "specs"
    shutil.copytree(fixture, broken)
    alerts = broken / "alerts.yaml"
    alerts.write_text(alerts.read_text().replace("{{ $value | humanizePercentage }} inline", "{{ and }} braces"))
    build = compile_specs(broken)
    write_tree(tmp_path / "out2", build.files)
    assert _not_covered(tmp_path / "out2") == [
        "# Not covered: alert ErrorRatioCritical: cannot replay the template action {{ and }}"]
    results = promtool_test_folder(tmp_path / "out2" / "prometheus" / "tests")
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]


@pytest.mark.parametrize("for_", ["7d", "1y", "10y"])
def test_a_for_too_long_to_replay_is_named_not_simulated(for_: str, tmp_path: Path) -> None:
    """The planner's cost does not grow with `for`: past MAX_EVALUATIONS the alert is named as not covered."""
    fixture = SPECS.parent / "tests" / "fixtures" / "golden_specs"
    specs = tmp_path / "specs"
    shutil.copytree(fixture, specs)
    kpis = specs / "kpis.yaml"
    kpis.write_text(kpis.read_text().replace("for: 5m", f"for: {for_}", 1))
    write_tree(tmp_path / "out", compile_specs(specs).files)
    evaluations = {"7d": "30,270", "1y": "1,576,830", "10y": "15,768,030"}[for_]
    assert _not_covered(tmp_path / "out") == [
        f"# Not covered: alert ErrorRatioWarning: its test would take {evaluations} evaluations of 20s "
        f"(its `for` is {for_}); monspec plans tests of at most 5,000"]
    assert "ErrorRatioWarning" not in [t.get("alertname") for g in _test_groups(tmp_path / "out")
                                       for t in g.get("alert_rule_test", [])]


def test_braces_in_kpi_text_are_printed_literally_by_prometheus(promtool: str, tmp_path: Path) -> None:
    """KPI text is data: a `{{` in a title or description reaches the annotation as `{{ "{{" }}`,
    which promtool accepts and renders back as `{{` in the generated tests."""
    specs = tmp_path / "specs"
    shutil.copytree(SPECS.parent / "tests" / "fixtures" / "golden_specs", specs)
    kpis = specs / "kpis.yaml"
    kpis.write_text(kpis.read_text().replace("description: Share of requests that fail", "description: 'Share {{ of }} requests {{'")
                    .replace("title: p99 latency", "title: 'p99 {{ latency'"))
    build = compile_specs(specs)
    rules = build.files["prometheus/rules.yml"].decode()
    assert "          summary: 'p99 {{ \"{{\" }} latency critical: {{ $value | humanizeDuration }}'" in rules.splitlines()
    out = tmp_path / "out"
    write_tree(out, build.files)
    check = subprocess.run([promtool, "check", "rules", "rules.yml"], cwd=out / "prometheus", capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    results = promtool_test_folder(out / "prometheus" / "tests")
    assert results and all(r.ok for r in results), [r.detail for r in results if not r.ok]
    assert _not_covered(out) == []
    assert any("p99 {{ latency critical: " in path.read_text() for path in _test_files(out))
