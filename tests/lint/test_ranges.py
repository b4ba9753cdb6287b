"""promql/range-too-short: windows of at least 4 scrape intervals (15s here, so 1m)."""
from __future__ import annotations

from alert_text import ALERT


def test_range_too_short_hit(lint) -> None:
    linted = lint(("ranges",), ALERT.format(expr='sum by (job, instance) (rate(requests_total{outcome="error"}[30s])) > 1'))
    assert linted.of("promql/range-too-short") == [
        "alerts.yaml:3:71: warning: range [30s] spans fewer than 4 scrape intervals (15s each) | hint: use at least [1m]"]


def test_range_too_short_miss(lint) -> None:
    linted = lint(("ranges",), ALERT.format(expr='sum by (job, instance) (rate(requests_total{outcome="error"}[1m])) > 1'))
    assert linted.of("promql/range-too-short") == []


def test_range_in_a_block_scalar_points_at_its_bracket(lint) -> None:
    alerts = """\
    alerts:
      shop_errors:
        expr: |-
          sum by (job, instance) (rate(requests_total{outcome="error"}[5m]))
          / sum by (job, instance) (rate(requests_total[20s])) > 0.1
        for: 5m
        severity: warning
        summary: Errors
        description: Errors happen.
    """
    assert lint(("ranges",), alerts).of("promql/range-too-short") == [
        "alerts.yaml:5:52: warning: range [20s] spans fewer than 4 scrape intervals (15s each) | hint: use at least [1m]"]
