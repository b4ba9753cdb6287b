"""promql/counter-without-rate, promql/rate-on-gauge, promql/quantile-without-le (and the guide's
histogram compared as a value, promql/histogram-as-value)."""
from __future__ import annotations

from alert_text import ALERT


def test_counter_without_rate_hit(lint) -> None:
    linted = lint(("types",), ALERT.format(expr='requests_total{outcome="error"} > 5'))
    assert linted.of("promql/counter-without-rate") == [
        "alerts.yaml:3:11: error: `requests_total` is a counter: read it through rate() or increase()"
        ' | hint: rate(requests_total{outcome="error"}[5m]) for a per-second rate, increase(…[1h]) for a count per hour']


def test_counter_without_rate_miss(lint) -> None:
    linted = lint(("types",), ALERT.format(expr='sum by (job, instance) (rate(requests_total{outcome="error"}[5m])) > 5'))
    assert linted.of("promql/counter-without-rate") == []


def test_rate_on_gauge_hit(lint) -> None:
    linted = lint(("types",), ALERT.format(expr="rate(queue_utilization[5m]) > 0.1"))
    assert linted.of("promql/rate-on-gauge") == [
        "alerts.yaml:3:16: error: rate() of `queue_utilization`, a gauge: rate() is for counters"
        " | hint: use deriv() for a gauge's per-second change, delta() for its change over the window, or the gauge itself"]


def test_rate_on_gauge_miss(lint) -> None:
    assert lint(("types",), ALERT.format(expr="deriv(queue_utilization[5m]) > 0.1")).of("promql/rate-on-gauge") == []


def test_quantile_without_le_hit(lint) -> None:
    expr = "histogram_quantile(0.95, sum by (job) (rate(latency_seconds_bucket[5m]))) > 0.5"
    linted = lint(("types",), ALERT.format(expr=expr))
    assert linted.of("promql/quantile-without-le") == [
        "alerts.yaml:3:55: error: histogram_quantile() over `latency_seconds_bucket` aggregated by (job) without `le`:"
        " the buckets merge | hint: keep `le`: sum by (job, instance, le) (rate(…[5m]))"]
    assert linted.rendered("promql/quantile-without-le")[0].splitlines()[1:3] == [
        f"      expr: {expr}",
        " " * 56 + "^"]


def test_quantile_without_le_miss(lint) -> None:
    expr = "histogram_quantile(0.95, sum by (job, instance, le) (rate(latency_seconds_bucket[5m]))) > 0.5"
    assert lint(("types",), ALERT.format(expr=expr)).of("promql/quantile-without-le") == []


def test_the_guides_histogram_compared_as_a_value(lint) -> None:
    linted = lint(("references",), ALERT.format(expr='latency_seconds{outcome="x"} > 0.010'))
    [problem] = linted.of("promql/histogram-as-value")
    assert problem.startswith("alerts.yaml:3:11: error: `latency_seconds` is a histogram: its base name has no value to compare")
    assert problem.endswith('histogram_quantile(0.95, sum by (job, instance, le) (rate(latency_seconds_bucket{outcome="x"}[5m]))), '
                            "or the recorded `latency_seconds:p95`")
    assert lint(("references",), ALERT.format(expr="latency_seconds:p95 > 0.010")).of("promql/histogram-as-value") == []
