"""The guide's own alert definitions, added to the bundled specs as the guide wrote them,
cannot pass `monspec lint` / `monspec check`: each mistake is named at its place."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from monspec.cli import main

ROOT = Path(__file__).resolve().parents[2]

GUIDE_ALERTS = """\
alerts:
  guide_cache_response_time_critical:
    expr: unified_cache_operation_duration_seconds{cache_level="l1"} > 0.010
    for: 1m
    severity: critical
    summary: "L1 cache response time critically high: {{ $value }}ms"
    description: L1 cache operations taking >10ms indicates severe performance degradation.
  guide_redis_connection_errors:
    expr: rate(unified_redis_connection_errors_total[5m]) > 1
    for: 2m
    severity: warning
    summary: "Redis connection errors detected: {{ $value }} errors/min"
    description: Intermittent Redis connection errors detected.
"""


def test_guide_alerts_fail_lint(tmp_path: Path, monkeypatch) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    (specs / "guide_alerts.yaml").write_text(GUIDE_ALERTS)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["lint", "--specs", "specs"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("specs/guide_alerts.yaml")]
    assert lines == [
        "specs/guide_alerts.yaml:3:11: error: `unified_cache_operation_duration_seconds` is a histogram: "
        "its base name has no value to compare [promql/histogram-as-value]",
        'specs/guide_alerts.yaml:6:67: error: `summary` shows {{ $value }} as milliseconds ("ms"), '
        "but `GuideCacheResponseTimeCritical`'s expression yields seconds [alert/annotation-unit]",
        'specs/guide_alerts.yaml:12:68: error: `summary` shows {{ $value }} as a per-minute rate ("/min"), '
        "but `GuideRedisConnectionErrors`'s expression yields a per-second rate [alert/annotation-unit]",
    ]
    assert "hint: compare a quantile instead: histogram_quantile(0.95, sum by (job, instance, le) " \
           '(rate(unified_cache_operation_duration_seconds_bucket{cache_level="l1"}[5m]))), ' \
           "or the recorded `unified_cache_operation_duration_seconds:p95`" in result.stderr


def test_bundled_specs_pass_lint(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
