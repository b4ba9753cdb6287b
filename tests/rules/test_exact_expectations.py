"""Generated expectations are exact by construction: on a high-cardinality spec (12 routes x 5 methods
x 3 codes) `promtool test rules` passes 20 times in a row. Prometheus sums a vector in map order,
which varies per run; the planner feeds whole per-second rates so every sum is exact in any order
(with fractional rates 4-6 cases failed in each run on last-digit differences)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from monspec.build import compile_specs
from monspec.output import write_tree

ROUTES = [f"/v1/r{i}" for i in range(12)]
SPECS = f"""\
project: {{name: wide, title: Wide, job: wide, runbook_base_url: "https://r.example.com/w.md"}}
metrics:
  http_requests_total:
    type: counter
    unit: operations
    help: Requests.
    labels: {{route: [{", ".join(f'"{r}"' for r in ROUTES)}], method: [GET, POST, PUT, PATCH, DELETE], code: ["200", "404", "500"]}}
  http_request_duration_seconds:
    type: histogram
    unit: seconds
    help: Latency.
    labels: {{route: [{", ".join(f'"{r}"' for r in ROUTES)}], method: [GET, POST, PUT, PATCH, DELETE], code: ["200", "404", "500"]}}
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
recording_rules:
  - record: job:http_errors:ratio_rate5m
    unit: ratio
    help: Share of 5xx.
    expr: sum by (job, instance) (rate(http_requests_total{{code="500"}}[5m])) / sum by (job, instance) (rate(http_requests_total[5m]))
  - record: job:http_requests:rate5m
    unit: ops
    help: Requests per second.
    expr: sum by (job, instance) (rate(http_requests_total[5m]))
  - record: job:http_request_duration_seconds:p95
    unit: seconds
    help: p95 latency.
    expr: histogram_quantile(0.95, sum by (job, instance, le) (rate(http_request_duration_seconds_bucket[5m])))
kpis:
  errors:
    expr: job:http_errors:ratio_rate5m
    unit: ratio
    warning: ">0.013"
    critical: ">0.07"
    description: Share of requests failing
  traffic:
    expr: job:http_requests:rate5m
    unit: ops
    warning: "<33.3"
    description: Requests per second
  latency:
    expr: job:http_request_duration_seconds:p95
    unit: seconds
    warning: ">0.0333"
    critical: ">0.3"
    description: p95 latency
"""


@pytest.mark.repeated
def test_twenty_promtool_runs_all_pass_on_a_wide_spec(promtool: str, tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "all.yaml").write_text(SPECS)
    write_tree(tmp_path / "out", compile_specs(specs).files)
    folder = tmp_path / "out" / "prometheus" / "tests"
    files = sorted(p.name for p in folder.glob("*.yml"))
    text = "".join((folder / name).read_text() for name in files)
    assert "# Not covered" not in text
    assert text.count("- series: http_requests_total{") > 50  # the distractors make the sums wide
    failures = []
    for run in range(20):
        result = subprocess.run([promtool, "test", "rules", *files], cwd=folder,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            failures.append(f"run {run + 1}:\n{result.stdout}{result.stderr}")
    assert failures == []
