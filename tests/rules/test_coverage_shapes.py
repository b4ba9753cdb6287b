"""The condition shapes a second team's specs use get generated tests that promtool runs, and that fail
when the rule changes: `1 - a / b`, `time() - x`, `unless`, `absent(x)`, `or`, labels listed as `any`."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from monspec.build import compile_specs
from monspec.output import write_tree

SPECS = """\
project: {name: api, title: API, job: api, runbook_base_url: "https://r.example.com/a.md", absence_alert: false}
metrics:
  http_requests_total: {type: counter, unit: operations, help: Requests., labels: {code: any, route: any}}
  batch_last_success_seconds: {type: gauge, unit: seconds, help: Last success., labels: {batch: [export, reconcile]}, aggregation: max}
  api_maintenance: {type: gauge, unit: bool, help: Maintenance window., aggregation: max}
  queue_lag: {type: gauge, unit: entries, help: Lag., aggregation: max}
  queue_consumers: {type: gauge, unit: entries, help: Consumers., aggregation: min}
recording_rules:
  - record: job:availability:ratio_rate5m
    unit: ratio
    help: Share of non-5xx.
    expr: 1 - sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m]))
alerts:
  availability_low:
    expr: job:availability:ratio_rate5m < 0.99 unless on (job) max by (job) (api_maintenance) == 1
    for: 5m
    severity: critical
    summary: Availability {{ $value | humanizePercentage }}
    description: d
  reconcile_stale:
    expr: time() - max by (job) (batch_last_success_seconds{batch="reconcile"}) > 3600
    for: 5m
    severity: warning
    summary: Stale for {{ $value | humanizeDuration }}
    description: d
  queue_in_trouble:
    expr: max by (job) (queue_lag) > 1000 or min by (job) (queue_consumers) < 1
    for: 5m
    severity: warning
    summary: Queue in trouble
    description: d
  export_never_ran:
    expr: absent(batch_last_success_seconds{batch="export"})
    for: 15m
    severity: warning
    summary: Export never reported
    description: d
"""


def _run(folder: Path) -> subprocess.CompletedProcess:
    files = sorted(p.name for p in folder.glob("*.yml"))
    return subprocess.run(["promtool", "test", "rules", *files], cwd=folder, capture_output=True, text=True, timeout=120)


def test_each_shape_is_covered_and_pinned(promtool: str, tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "all.yaml").write_text(SPECS)
    build = compile_specs(specs)
    assert [p.id for p in build.problems] == []
    out = tmp_path / "out" / "prometheus" / "tests"
    write_tree(tmp_path / "out", build.files)
    names = [g["name"] for f in sorted(out.glob("*.yml")) for g in yaml.safe_load(f.read_text())["tests"]]
    assert sorted(names) == sorted([
        "recording rule job:availability:ratio_rate5m",
        "AvailabilityLow fires: 0.9702 inside < 0.99 and unless 0 outside == 1",
        "AvailabilityLow stays quiet: 0.9999 outside < 0.99 and unless 0 outside == 1",  # 1.0098 is out of reach
        "AvailabilityLow stays quiet: 0.9702 inside < 0.99 and unless 1 inside == 1",
        "ReconcileStale fires: 3672 inside > 3600",
        "ReconcileStale stays quiet: 3528 outside > 3600",
        # `or`: one firing state per side (the other side false), each condition flipped once.
        "QueueInTrouble fires: 1020 inside > 1000 and 1.02 outside < 1",
        "QueueInTrouble stays quiet: 980 outside > 1000 and 1.02 outside < 1",
        "QueueInTrouble fires: 980 outside > 1000 and 0.98 inside < 1",
        "QueueInTrouble stays quiet: 980 outside > 1000 and 1.02 outside < 1",
        "ExportNeverRan fires: absent",
        "ExportNeverRan stays quiet: present",
    ])
    result = _run(out)
    assert result.returncode == 0, result.stdout + result.stderr

    # Each rule changed in the way a typo would (in the rules the test files load): a generated test fails.
    chains = {p: p.read_text() for p in (out / "rules").glob("*.yml")}
    for old, new in [("< 0.99", "< 0.95"), ("== 1", "== 0"), ("> 3600", "> 7200"), ("> 1000", "> 1100"), ("< 1", "< 0.9"), ('{batch="export"}', '{batch="reconcile"}'),
                     ('code=~"5.."', 'code=~"4.."')]:
        assert any(old in text for text in chains.values()), old
        for path, text in chains.items():
            path.write_text(text.replace(old, new))
        assert _run(out).returncode != 0, f"{old} -> {new} passed every generated test"
        for path, text in chains.items():
            path.write_text(text)
