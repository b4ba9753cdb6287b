"""`monspec test`: promtool check + test rules on the output folder, one line per failing case, JUnit on request."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from monspec.cli import main
from monspec.toolcheck.unit_tests import parse_promtool_failures

ROOT = Path(__file__).resolve().parents[2]

PROMTOOL_FAILURE = """Unit Testing:  rules_test.yml
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


def test_passing_output_folder(promtool: str, generated: Path, tmp_path: Path, monkeypatch) -> None:
    out = _copy(generated, tmp_path)
    monkeypatch.chdir(ROOT)
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["test", "--out", str(out), "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    assert f"ok   promtool test rules {out}/prometheus/rules_test.yml" in result.output
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0"


def test_each_failing_case_gets_a_line_and_a_junit_testcase(promtool: str, generated: Path, tmp_path: Path,
                                                             monkeypatch) -> None:
    out = _copy(generated, tmp_path)
    rules = out / "prometheus" / "rules.yml"
    text = rules.read_text()
    rules.write_text(text.replace("expr: unified_redis_master_connected == 0\n        for: 30s",
                                  "expr: unified_redis_master_connected == 0\n        for: 1m"))
    assert rules.read_text() != text
    monkeypatch.chdir(ROOT)
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["test", "--out", str(out), "--junit", str(junit)])
    assert result.exit_code == 1
    failing = [line for line in result.stderr.splitlines() if line.startswith("FAIL")]
    assert failing == [f"FAIL promtool test rules {out}/prometheus/rules_test.yml: "
                       "RedisMasterDown fires: 0 inside == 0: alert RedisMasterDown at 30s: "
                       "expected 1 firing alert(s), got 0"]
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "1"
    [case] = [c for c in suite if c.find("failure") is not None]
    assert "RedisMasterDown at 30s" in case.get("name")
    assert "got:[]" in case.find("failure").text
