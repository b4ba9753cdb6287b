"""`monspec test`: promtool check + test rules on the output folder, one line per failing case, JUnit on request."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from monspec.cli import main
from monspec.toolcheck.unit_tests import parse_promtool_failures
from support.processes import require_program

ROOT = Path(__file__).resolve().parents[2]

PROMTOOL_FAILURE = """Unit Testing:  unified_cache_hit_ratio.yml
  FAILED:
    name: CacheHitRateCritical fires: 0.686 inside < 0.7,
    alertname: CacheHitRateCritical, time: 2m30s, 
        exp:[
            0:
              Labels:{alertname="CacheHitRateCritical"}
            ], 
        got:[]

    expr: "unified_cache_hit_ratio{cache_level=\\"l1\\"}", time: 10m,
        exp: {__name__="unified_cache_hit_ratio"} 7.5E-01
        got: {__name__="unified_cache_hit_ratio"} 2.5E-01

"""


def test_promtool_failures_are_split_into_cases() -> None:
    cases = parse_promtool_failures(PROMTOOL_FAILURE)
    assert [name for name, _ in cases] == [
        "CacheHitRateCritical fires: 0.686 inside < 0.7: alert CacheHitRateCritical at 2m30s",
        'expr "unified_cache_hit_ratio{cache_level=\\"l1\\"}" at 10m',
    ]
    assert cases[0][1].splitlines()[0] == "expected 1 firing alert(s), got 0"
    assert cases[1][1].splitlines()[0] == ('exp: {__name__="unified_cache_hit_ratio"} 7.5E-01 | '
                                           'got: {__name__="unified_cache_hit_ratio"} 2.5E-01')


def _copy(generated: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(generated, out)
    return out


def _small(tmp_path: Path) -> tuple[Path, Path]:
    """The example spec set without its SLOs, compiled: rules, tests and routing enough for checks of
    `monspec test` itself, at a fifth of the bundled set's promtool time (CI runs the suite in 15 min)."""
    specs, out = tmp_path / "specs", tmp_path / "out"
    shutil.copytree(ROOT / "examples" / "http-api" / "specs", specs)
    (specs / "slos.yaml").unlink()
    result = CliRunner().invoke(main, ["generate", "--specs", str(specs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return specs, out


def test_passing_output_folder(promtool: str, generated: Path, tmp_path: Path, monkeypatch) -> None:
    out = _copy(generated, tmp_path)
    monkeypatch.chdir(ROOT)
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["test", "--specs", "specs", "--out", str(out), "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    assert "ok   generated tests cover every rule" in result.output
    assert f"ok   promtool test rules {out}/prometheus/tests/RedisMasterDown.yml" in result.output
    assert f"ok   vmalert -dryRun -rule={out}/prometheus/rules.yml" in result.output
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0"


def test_jobs_run_the_same_checks_side_by_side(promtool: str, tmp_path: Path) -> None:
    specs, out = _small(tmp_path)
    serial = CliRunner().invoke(main, ["test", "--specs", str(specs), "--out", str(out)])
    parallel = CliRunner().invoke(main, ["test", "--specs", str(specs), "--out", str(out), "--jobs", "3"])
    assert parallel.exit_code == serial.exit_code == 0, parallel.output
    files = sorted((out / "prometheus" / "tests").glob("*.yml"))
    assert len(files) > 3 and serial.output.count("ok   promtool test rules ") == len(files)
    assert parallel.output == serial.output


def test_rules_vmalert_refuses_fail(promtool: str, tmp_path: Path) -> None:
    """A rule Prometheus loads but VictoriaMetrics' vmalert (Debian's) refuses: `keep_firing_for`."""
    require_program("vmalert")
    specs, out = _small(tmp_path)
    rules = out / "prometheus" / "rules.yml"
    text = rules.read_text()
    rules.write_text(text.replace("\n        for: 10m\n", "\n        for: 10m\n        keep_firing_for: 5m\n", 1))
    assert rules.read_text() != text
    result = CliRunner().invoke(main, ["test", "--specs", str(specs), "--out", str(out)])
    assert result.exit_code == 1
    failing = [line for line in result.stderr.splitlines() if line.startswith("FAIL")]
    assert len(failing) == 1 and failing[0].startswith(f"FAIL vmalert -dryRun -rule={rules}: "), failing
    assert "unknown fields in rule: keep_firing_for" in failing[0]


def test_vmalert_missing_is_a_skip_locally_and_a_failure_in_ci(promtool: str, tmp_path: Path, monkeypatch) -> None:
    specs, out = _small(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("promtool", "amtool"):
        (bin_dir / program).symlink_to(require_program(program))
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("CI", "false")
    local = CliRunner().invoke(main, ["test", "--specs", str(specs), "--out", str(out)])
    assert local.exit_code == 0, local.output
    assert f"skip vmalert -dryRun -rule={out}/prometheus/rules.yml" in local.output
    assert local.output.splitlines()[-1].endswith(" passed, 0 failed, 1 skipped")
    monkeypatch.setenv("CI", "true")
    ci = CliRunner().invoke(main, ["test", "--specs", str(specs), "--out", str(out)])
    assert ci.exit_code == 1
    assert (f"FAIL vmalert -dryRun -rule={out}/prometheus/rules.yml: vmalert not found on PATH: "
            "install the Debian package `victoria-metrics` (or run `make programs`)") in ci.stderr


def test_each_failing_case_gets_a_line_and_a_junit_testcase(promtool: str, generated: Path, tmp_path: Path,
                                                             monkeypatch) -> None:
    out = _copy(generated, tmp_path)
    rules = out / "prometheus" / "tests" / "rules" / "RedisMasterDown.yml"
    text = rules.read_text()
    rules.write_text(text.replace("expr: unified_redis_master_connected == 0\n        for: 30s",
                                  "expr: unified_redis_master_connected == 0\n        for: 1m"))
    assert rules.read_text() != text
    monkeypatch.chdir(ROOT)
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["test", "--specs", "specs", "--out", str(out), "--junit", str(junit)])
    assert result.exit_code == 1
    failing = [line for line in result.stderr.splitlines() if line.startswith("FAIL")]
    assert failing == [f"FAIL promtool test rules {out}/prometheus/tests/RedisMasterDown.yml: "
                       "RedisMasterDown fires: 0 inside == 0: alert RedisMasterDown at 30s: "
                       "expected 1 firing alert(s), got 0"]
    # promtool's whole report of the case follows, indented: what was expected and what came.
    after = result.stderr.split(failing[0], 1)[1].splitlines()
    assert after[1].startswith("    alertname: RedisMasterDown, time: 30s")
    assert any(line.startswith("    exp:[") for line in after) and "    got:[]" in after
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "1"
    [case] = [c for c in suite if c.find("failure") is not None]
    assert "RedisMasterDown at 30s" in case.get("name")
    assert "got:[]" in case.find("failure").text


def test_out_without_specs_is_a_usage_error(tmp_path: Path) -> None:
    """It used to run the bundled specs' routing checks against another spec set's output."""
    result = CliRunner().invoke(main, ["test", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "`--out` names another output folder: give `--specs` too" in result.output


UNCOVERED = """\
project: {name: api, title: API, job: api, runbook_base_url: "https://r.example.com/a.md", absence_alert: false}
metrics:
  queue_depth: {type: gauge, unit: entries, help: Depth., aggregation: max}
  queue_capacity: {type: gauge, unit: entries, help: Capacity., aggregation: max}
alerts:
  queue_full:
    expr: queue_depth >= on (job, instance) queue_capacity
    for: 15m
    severity: warning
    summary: Queue full
    description: The queue holds as many entries as it can.
"""


def test_uncovered_rules_fail_unless_acknowledged(promtool: str, tmp_path: Path) -> None:
    from monspec.build import compile_specs, lint_specs
    from monspec.output import write_tree

    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "all.yaml").write_text(UNCOVERED)
    _, problems = lint_specs(specs)
    assert [p.render().splitlines()[0] for p in problems if p.id == "test/uncovered"] == [
        f"{specs}/all.yaml:6:3: warning: no generated promtool test covers alert QueueFull: its condition is not "
        "`<expr> <comparison> <number>` (nor such comparisons joined by and, or, unless) [test/uncovered]"]
    write_tree(tmp_path / "out", compile_specs(specs).files)
    result = CliRunner().invoke(main, ["test", "--specs", str(specs), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "FAIL 1 rules not covered by generated tests: alert QueueFull: its condition is not" in result.output

    (specs / "all.yaml").write_text(UNCOVERED + "    lint: {disable: [test/uncovered], reason: two series compared; checked on staging}\n")
    write_tree(tmp_path / "out", compile_specs(specs).files)
    assert "# Not covered: alert QueueFull: its condition is not `<expr> <comparison> <number>` (nor such comparisons " \
           "joined by and, or, unless) (acknowledged: two series compared; checked on staging)" in \
           (tmp_path / "out" / "prometheus" / "tests" / "QueueFull.yml").read_text()
    result = CliRunner().invoke(main, ["test", "--specs", str(specs), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "ok   generated tests cover every rule (1 gaps acknowledged)" in result.output
