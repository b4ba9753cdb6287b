"""The malformed-spec corpus: each case gives one exact message with file:line:col and a caret,
exit code 1, no traceback, and leaves the output folder untouched."""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from monspec.cli import main
from monspec.output import read_tree
from support.processes import require_program

FIXTURE = Path(__file__).parent.parent / "fixtures" / "golden_specs"


@dataclass
class Case:
    id: str
    file: str  # written into a copy of the fixture spec set (replacing a file of that name)
    content: str
    expected: str  # stderr, exactly, before the "N error(s)" line
    needs_promtool: bool = False


CASES = [
    Case("yaml-syntax", "bad.yaml", "alerts:\n  x: [unclosed\n", """\
specs/bad.yaml:2:6: error: invalid YAML: while parsing a flow sequence: did not find expected ',' or ']' [yaml/syntax]
    x: [unclosed
       ^"""),
    Case("yaml-bad-indent", "bad.yaml", "alerts:\n  x: 1\n y: 2\n", """\
specs/bad.yaml:3:2: error: invalid YAML: while parsing a block mapping: did not find expected key [yaml/syntax]
   y: 2
   ^"""),
    Case("unknown-field", "bad.yaml", """\
alerts:
  slow_checkout:
    expr: shop_error_ratio > 0.5
    severty: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:2:3: error: missing required field `severity` [spec/missing-field]
    slow_checkout:
    ^
specs/bad.yaml:4:5: error: unknown field `severty` [spec/unknown-field]
      severty: warning
      ^
  hint: did you mean `severity`?"""),
    Case("unknown-disabled-check", "bad.yaml", """\
alerts:
  slow_checkout:
    expr: shop_error_ratio > 0.5
    severity: warning
    summary: s
    description: d
    lint: {disable: [alert/missing-fr], reason: an event}
""", """\
specs/bad.yaml:7:22: error: `disable`: unknown check id `alert/missing-fr`, did you mean `alert/missing-for`? [spec/invalid]
      lint: {disable: [alert/missing-fr], reason: an event}
                       ^"""),
    Case("wrong-type", "bad.yaml", """\
kpis:
  orders:
    expr: shop_error_ratio
    unit: ratio
    description: [not, a, string]
""", """\
specs/bad.yaml:5:18: error: `description`: expected a string, found a list [spec/invalid]
      description: [not, a, string]
                   ^"""),
    Case("bad-duration", "bad.yaml", """\
alerts:
  slow:
    expr: shop_error_ratio > 0.5
    for: 5 minutes
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:4:10: error: `for`: invalid duration '5 minutes': use a number and a unit, largest unit first, e.g. "30s", "5m", "1h30m" (units: ms, s, m, h, d, w, y) [spec/invalid]
      for: 5 minutes
           ^"""),
    Case("invalid-promql", "bad.yaml", """\
alerts:
  broken:
    expr: sum(rate(shop_requests_total[5m]) > 1
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:3:14: error: invalid PromQL in alert `broken`: unclosed left parenthesis [promql/syntax]
      expr: sum(rate(shop_requests_total[5m]) > 1
               ^""", needs_promtool=True),
    Case("invalid-promql-block", "bad.yaml", """\
alerts:
  broken:
    expr: |
      rate(shop_requests_total[5m)
      > 1
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:4:34: error: invalid PromQL in alert `broken`: unexpected ")" in subquery or range, expected ":" or "]" [promql/syntax]
        rate(shop_requests_total[5m)
                                   ^""", needs_promtool=True),
    Case("unknown-metric", "bad.yaml", """\
alerts:
  typo:
    expr: shop_request_total > 1
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:3:11: error: unknown metric `shop_request_total` in alert `typo` [promql/unknown-metric]
      expr: shop_request_total > 1
            ^
  hint: did you mean `shop_requests_total`?"""),
    Case("unknown-label-value", "bad.yaml", """\
alerts:
  errors:
    expr: rate(shop_requests_total{outcome="eror"}[5m]) > 1
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:3:36: error: `outcome` of `shop_requests_total` is never "eror": allowed "error", "ok" [promql/label-value]
      expr: rate(shop_requests_total{outcome="eror"}[5m]) > 1
                                     ^
  hint: did you mean `error`?"""),
    Case("histogram-as-gauge", "bad.yaml", """\
alerts:
  slow:
    expr: shop_request_duration_seconds > 0.5
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:3:11: error: `shop_request_duration_seconds` is a histogram: its base name has no value to compare [promql/histogram-as-value]
      expr: shop_request_duration_seconds > 0.5
            ^
  hint: compare a quantile instead: histogram_quantile(0.95, sum by (job, instance, le) (rate(shop_request_duration_seconds_bucket[5m]))), or the recorded `shop_request_duration_seconds:p99`"""),
    Case("duplicate-name", "bad.yaml", """\
kpis:
  error_ratio:
    expr: shop_error_ratio
    unit: ratio
    description: again
""", """\
specs/kpis.yaml:2:3: error: kpi `error_ratio` is defined twice [spec/duplicate-name]
    error_ratio:
    ^
  also at specs/bad.yaml:2:3"""),
    Case("contradictory-thresholds", "bad.yaml", """\
kpis:
  queue_depth:
    expr: shop_queue_utilization
    unit: ratio
    description: fill
    warning: ">0.95"
    critical: ">0.90"
""", """\
specs/bad.yaml:6:14: error: `warning` (>0.95) is stricter than `critical` (>0.9): the warning must fire first [kpi/threshold-order]
      warning: ">0.95"
               ^
  hint: swap them, or move warning between target and 0.9"""),
    Case("empty-file", "bad.yaml", "", """\
specs/bad.yaml:1:1: error: empty spec file: expected a mapping such as `kpis:` or `alerts:` [spec/empty-file]
  
  ^"""),
    Case("list-not-mapping", "bad.yaml", """\
alerts:
  - expr: up == 0
    severity: critical
""", """\
specs/bad.yaml:2:3: error: `alerts`: expected a mapping, found a list [spec/invalid]
    - expr: up == 0
    ^"""),
    Case("guide-alert-key", "bad.yaml", """\
alerts:
  redis_master_down:
    alert: shop_queue_utilization == 0
    for: 30s
    severity: critical
    summary: s
    description: d
""", """\
specs/bad.yaml:3:5: error: the guide's `alert:` key holds the expression: rename it to `expr:` (the alert's name is its key in `alerts:`) [spec/invalid]
      alert: shop_queue_utilization == 0
      ^"""),
    Case("guide-threshold-words", "bad.yaml", """\
kpis:
  warmed:
    expr: shop_queue_utilization
    unit: keys
    description: keys warmed
    target: ">50 per cycle"
""", """\
specs/bad.yaml:6:13: error: `target`: cannot read threshold '>50 per cycle': write an operator and a number (">0.90", "<0.001", "==0") or a band ("70-90%"); put words such as "per cycle" in the KPI's `unit` or `description` [spec/invalid]
      target: ">50 per cycle"
              ^"""),
    Case("bare-number-threshold", "bad.yaml", """\
kpis:
  latency:
    expr: shop_queue_utilization
    unit: ratio
    description: d
    warning: 0.5
""", """\
specs/bad.yaml:6:14: error: `warning`: threshold '0.5' has no comparison: write ">0.5" when higher is worse or "<0.5" when lower is worse ("==0.5" only if exactly that value is meant) [spec/invalid]
      warning: 0.5
               ^"""),
    Case("bare-number-threshold-string", "bad.yaml", """\
kpis:
  latency:
    expr: shop_queue_utilization
    unit: ratio
    description: d
    critical: "90%"
""", """\
specs/bad.yaml:6:15: error: `critical`: threshold '90%' has no comparison: write ">90%" when higher is worse or "<90%" when lower is worse ("==90%" only if exactly that value is meant) [spec/invalid]
      critical: "90%"
                ^"""),
    Case("syntax-the-target-prometheus-cannot-load", "bad.yaml", """\
recording_rules:
  - record: shop_queue:top2
    unit: ratio
    help: The two fullest queues.
    expr: limitk(2, shop_queue_utilization)
""", """\
specs/bad.yaml:5:11: error: `limitk` needs Prometheus 2.54; the target is 2.42 (project.prometheus_version) [promql/unsupported-by-target]
      expr: limitk(2, shop_queue_utilization)
            ^
  hint: rewrite it for the target, or raise `prometheus_version` when every Prometheus (and promtool) that loads these rules is that new"""),
    Case("duplicate-yaml-key", "bad.yaml", """\
kpis:
  a:
    expr: shop_error_ratio
    expr: shop_queue_utilization
    unit: ratio
    description: d
""", """\
specs/bad.yaml:4:5: error: duplicate key 'expr' in this mapping [yaml/duplicate-key]
      expr: shop_queue_utilization
      ^
  also at specs/bad.yaml:3:5
  hint: YAML keeps only the last one; remove or rename one of them"""),
]


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "monspec.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def _generate_in_process(cwd: Path, monkeypatch: pytest.MonkeyPatch):
    """`monspec generate` through click in this process (positions print relative to cwd)."""
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, ["generate"])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec_is_reported_exactly(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.needs_promtool:
        require_program("promtool")  # it locates PromQL syntax errors
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    (specs / case.file).write_text(case.content)
    result = _generate_in_process(tmp_path, monkeypatch)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), "no traceback"
    body = result.stderr.rsplit("\n", 2)[0] if result.stderr.count("error(s)") else result.stderr
    assert body.rstrip("\n") == case.expected
    assert result.stderr.rstrip("\n").splitlines()[-1].endswith("error(s), 0 warning(s)")
    assert not (tmp_path / "generated").exists(), "nothing may be written when the specs are bad"


def test_bad_specs_leave_an_existing_output_folder_untouched(tmp_path: Path) -> None:
    """Once through the real command: exit 1, no traceback, generated/ byte-identical."""
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    assert _run(["generate"], tmp_path).returncode == 0
    before = read_tree(tmp_path / "generated")
    case = next(c for c in CASES if c.id == "unknown-field")
    (specs / case.file).write_text(case.content)
    result = _run(["generate"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(case.expected)
    assert read_tree(tmp_path / "generated") == before


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    (specs / "bad.yaml").write_text("")
    result = _run(["--debug", "generate"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "SpecError" in result.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    result = _run(["generate", "--no-such-option"], tmp_path)
    assert result.returncode == 2
    assert "Error: No such option '--no-such-option'." in result.stderr


def test_missing_specs_folder(tmp_path: Path) -> None:
    result = _run(["generate", "--specs", "nowhere"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "error: specs folder nowhere does not exist [monspec/error]"
