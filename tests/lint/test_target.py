"""promql/unsupported-by-target: PromQL the target Prometheus (2.42 by default) cannot load."""
from __future__ import annotations

import pytest

ALERT = """\
alerts:
  shop_queue_full:
    expr: '{expr}'
    for: 5m
    severity: warning
    summary: Queue full
    description: The queue is full.
"""
HINT = (" | hint: rewrite it for the target, or raise `prometheus_version` when every Prometheus (and promtool) "
        "that loads these rules is that new")


@pytest.mark.parametrize("expr, col", [
    ('{"queue_utilization"} > 0.9', 14),  # Prometheus 3's quoted metric name
    ('max({job="shop", "queue_utilization"}) > 0.9', 30),
    ('queue_utilization{"queue.name"="orders"} > 0.9', 12),  # a quoted label name
])
def test_a_quoted_name_needs_prometheus_3(lint, expr: str, col: int) -> None:
    assert lint(("target",), ALERT.replace("{expr}", expr)).of("promql/unsupported-by-target") == [
        f"alerts.yaml:3:{col}: error: a quoted metric or label name needs Prometheus 3.0; the target is 2.42 "
        "(project.prometheus_version)" + HINT]


@pytest.mark.parametrize("expr", [
    'count({job="shop", outcome="error"}) > 10',  # no metric name: Prometheus 2 selects by labels alone
    '{__name__="queue_utilization"} > 0.9',  # the name as a matcher, Prometheus 2's way
    '{__name__=~"queue_.+", job="shop"} > 0.9',
])
def test_a_selector_without_a_quoted_name_loads_in_prometheus_2(lint, expr: str) -> None:
    assert lint(("target",), ALERT.replace("{expr}", expr)).of("promql/unsupported-by-target") == []
