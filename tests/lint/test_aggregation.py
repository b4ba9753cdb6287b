"""promql/mixed-instances and promql/wrong-aggregation."""
from __future__ import annotations

from alert_text import ALERT


def test_mixed_instances_hit(lint) -> None:
    linted = lint(("aggregation",), ALERT.format(expr='sum(rate(requests_total{outcome="error"}[5m])) > 1'))
    assert linted.of("promql/mixed-instances") == [
        "alerts.yaml:3:11: warning: sum() without `by` mixes the instances of `requests_total` in alert `shop_errors`"
        " | hint: sum by (job, instance) (…) keeps one series per instance (the catalog aggregates `requests_total` with sum)"]


def test_mixed_instances_hit_in_an_alerting_kpi(lint) -> None:
    kpis = """\
    kpis:
      queue:
        expr: avg by (job) (queue_utilization)
        unit: ratio
        warning: ">0.9"
        description: Queue fill level
    """
    linted = lint(("aggregation",), kpis=kpis)
    assert linted.of("promql/mixed-instances") == [
        "kpis.yaml:3:11: warning: avg() by (job) mixes the instances of `queue_utilization` in kpi `queue`"
        " | hint: avg by (job, instance) (…) keeps one series per instance (the catalog aggregates `queue_utilization` with max)"]


def test_mixed_instances_miss(lint) -> None:
    linted = lint(("aggregation",), ALERT.format(expr='sum by (job, instance) (rate(requests_total{outcome="error"}[5m])) > 1'))
    assert linted.of("promql/mixed-instances") == []
    linted = lint(("aggregation",), ALERT.format(expr='sum without (outcome) (rate(requests_total[5m])) > 1'))
    assert linted.of("promql/mixed-instances") == []


def test_job_level_aggregation_with_the_catalogs_function_is_deliberate(lint) -> None:
    """`sum by (job)` of a counter, `max by (job)` of a gauge that combines with max: a fleet-level
    condition (an API's availability, the largest lag), not an instance averaged away."""
    for expr in ('sum by (job) (rate(requests_total{outcome="error"}[5m])) > 1', "max by (job) (queue_utilization) > 0.9"):
        assert lint(("aggregation",), ALERT.format(expr=expr)).of("promql/mixed-instances") == [], expr


def test_wrong_aggregation_hit(lint) -> None:
    linted = lint(("aggregation",), ALERT.format(expr="sum by (job, instance) (queue_utilization) > 0.9"))
    assert linted.of("promql/wrong-aggregation") == [
        "alerts.yaml:3:11: warning: sum() of `queue_utilization`, which the catalog says combines with max()"
        " | hint: use max() or change `aggregation` in specs/catalog.yaml"]


def test_wrong_aggregation_miss(lint) -> None:
    linted = lint(("aggregation",), ALERT.format(expr="max by (job, instance) (queue_utilization) > 0.9"))
    assert linted.of("promql/wrong-aggregation") == []
