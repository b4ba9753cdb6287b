"""alert/annotation-unit: "ms", "%" and "/min" next to {{ $value }} need a value in those units."""
from __future__ import annotations

ALERT = """\
alerts:
  shop_alert:
    expr: {expr}
    for: 5m
    severity: warning
    summary: "{summary}"
    description: Something is off.
"""
LATENCY = "latency_seconds:p95 > 0.010"
ERRORS = 'sum by (job, instance) (rate(requests_total{outcome="error"}[5m])) > 1'


def test_guides_milliseconds_hit(lint) -> None:
    linted = lint(("units",), ALERT.format(expr=LATENCY, summary="L1 cache response time critically high: {{ $value }}ms"))
    assert linted.of("alert/annotation-unit") == [
        "alerts.yaml:6:67: error: `summary` shows {{ $value }} as milliseconds (\"ms\"), but `ShopAlert`'s expression "
        "yields seconds | hint: write {{ $value | humanizeDuration }} (it adds the unit itself) and drop \"ms\""]


def test_milliseconds_miss(lint) -> None:
    linted = lint(("units",), ALERT.format(expr=LATENCY, summary="L1 response time high: {{ $value | humanizeDuration }}"))
    assert linted.of("alert/annotation-unit") == []
    linted = lint(("units",), ALERT.format(expr="latency_seconds:p95 * 1000 > 10", summary="high: {{ $value }}ms"))
    assert linted.of("alert/annotation-unit") == []


def test_guides_errors_per_minute_hit(lint) -> None:
    linted = lint(("units",), ALERT.format(expr=ERRORS, summary="Redis connection errors detected: {{ $value }} errors/min"))
    assert linted.of("alert/annotation-unit") == [
        "alerts.yaml:6:68: error: `summary` shows {{ $value }} as a per-minute rate (\"/min\"), but `ShopAlert`'s "
        "expression yields a per-second rate | hint: multiply the expression by 60 (e.g. `… * 60 > 1`) so $value is per minute"]


def test_errors_per_minute_miss(lint) -> None:
    linted = lint(("units",), ALERT.format(expr=ERRORS.replace(" > 1", " * 60 > 1"),
                                            summary="Errors: {{ $value | printf \\\"%.1f\\\" }} errors/min"))
    assert linted.of("alert/annotation-unit") == []


def test_percent_hit_and_miss(lint) -> None:
    hit = lint(("units",), ALERT.format(expr="queue_utilization > 0.9", summary="Queue at {{ $value }}%"))
    assert hit.of("alert/annotation-unit") == [
        "alerts.yaml:6:36: error: `summary` shows {{ $value }} as a percentage (\"%\"), but `ShopAlert`'s expression "
        "yields a ratio (0-1) | hint: write {{ $value | humanizePercentage }} (it adds the unit itself) and drop \"%\""]
    miss = lint(("units",), ALERT.format(expr="queue_utilization > 0.9", summary="Queue at {{ $value | humanizePercentage }}"))
    assert miss.of("alert/annotation-unit") == []
