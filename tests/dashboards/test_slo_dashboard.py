"""The SLO dashboard (one per spec set with `slos:`), rendered by the dashboard renderer."""
from __future__ import annotations

import json
from pathlib import Path

from monspec import promql
from monspec.model import build_model
from monspec.render.slo_dashboard import render
from monspec.spec import load_specs

ROOT = Path(__file__).resolve().parents[2]


def test_slo_dashboard_reads_the_slo_recordings() -> None:
    """Its bytes are held by generated/ itself (tests/compiler/test_output.py: `monspec check`)."""
    files = render(build_model(load_specs(ROOT / "specs")))
    [(path, text)] = files.items()
    assert path == "grafana/dashboards/unified-cache-slos.json"
    board = json.loads(text)
    titles = [p["title"] for p in board["panels"][3:]]
    assert titles[:6] == [
        "L1 read latency: SLI over 30d", "L1 read latency: burn rate now", "L1 read latency: error budget left",
        "L1 read latency: alerts", "L1 read latency: error budget burn-down", "L1 read latency: burn rate per window"]
    assert len(titles) == 12  # six per SLO
    exprs = [t["expr"] for p in board["panels"][3:] for t in p["targets"]]
    for expr in exprs:
        promql.parse(expr)
        assert "$instance" not in expr  # SLO series are aggregated by job
    assert 'slo:sli_error:ratio_rate1h{job=~"$job", slo="l1_read_latency"} / 0.05' in exprs
    sli = board["panels"][3]
    assert sli["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "red", "value": None}, {"color": "green", "value": 0.95}]  # red below the objective
    burn = board["panels"][8]
    assert "14.4" in burn["description"] and "CacheAvailability" not in burn["description"]
