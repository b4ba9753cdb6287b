"""`monspec verify` checks the scrape itself: a down, stale or missing target is CRITICAL and
its KPIs NO DATA, never OK from the last values its windows still hold."""
from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path

from monspec.remote.prometheus import VerifyStatus, scrape_readings, verify
from monspec.spec import load_specs

SPECS = load_specs(Path(__file__).resolve().parents[2] / "specs")
def stamp(seconds_ago: float, now: float | None = None) -> str:
    """A Prometheus lastScrape (nanosecond RFC 3339) `seconds_ago` before `now` (the clock by default,
    as verify() reads it)."""
    from datetime import datetime

    moment = (time.time() if now is None else now) - seconds_ago
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


NOW = 1_800_000_000.0


def target(instance: str, health: str, seconds_ago: float, error: str = "", job: str = "unified-cache",
           now: float | None = None) -> dict:
    return {"labels": {"job": job, "instance": instance}, "scrapePool": job, "health": health,
            "lastScrape": stamp(seconds_ago, now), "scrapeInterval": "15s", "lastError": error}


class Client:
    """Prometheus's answers as data: every KPI reads 1 on both instances, the targets as given."""

    def __init__(self, targets: list[dict]):
        self._targets = targets

    def targets(self) -> list[dict]:
        return self._targets

    def query(self, expr: str):
        return [({"job": "unified-cache", "instance": i}, 1.0) for i in ("a:8000", "b:8000")]

    def metric_names(self, job: str) -> set[str]:
        return {f"{n}_count" if m.type == "histogram" else n for n, m in SPECS.metrics.items()}


def test_up_recent_down_stale_and_missing() -> None:
    client = Client([target("a:8000", "up", 5, now=NOW), target("b:8000", "down", 5, "connection refused", now=NOW),
                     target("c:8000", "up", 120, now=NOW)])
    readings = scrape_readings(client, ["unified-cache", "other"], now=NOW)
    assert [(r.job, r.instance, r.health, r.status, r.last_scrape_seconds_ago, r.error) for r in readings] == [
        ("unified-cache", "a:8000", "up", "OK", 5.0, ""),
        ("unified-cache", "b:8000", "down", "CRITICAL", 5.0, "connection refused"),
        ("unified-cache", "c:8000", "stale", "CRITICAL", 120.0, ""),  # three 15s intervals without a scrape
        ("other", "-", "missing", "CRITICAL", None, "no target of this job in Prometheus"),
    ]


def test_a_dead_targets_kpis_are_no_data_and_the_verdict_critical() -> None:
    report = verify(SPECS, Client([target("a:8000", "up", 1), target("b:8000", "down", 1, "connection refused")]))
    assert {r.status for r in report.readings if r.instance == "b:8000"} == {"NO DATA"}
    assert "NO DATA" not in {r.status for r in report.readings if r.instance == "a:8000"}  # judged by thresholds
    assert report.exit_code == VerifyStatus.CRITICAL
    assert report.targets_table() == ["job unified-cache: 1/2 targets up",
                                      "  a:8000  UP  OK (last scrape 1s ago)",
                                      "  b:8000  DOWN  CRITICAL (last scrape 1s ago): connection refused"]
