"""promql/unknown-metric, promql/unknown-label, promql/label-value: every selector names what the catalog has."""
from __future__ import annotations

from alert_text import ALERT


def test_unknown_metric_hit(lint) -> None:
    linted = lint(("references",), ALERT.format(expr="rate(request_total[5m]) > 1"))
    assert linted.of("promql/unknown-metric") == [
        "alerts.yaml:3:16: error: unknown metric `request_total` in alert `shop_errors` | hint: did you mean `requests_total`?"]


def test_unknown_label_hit(lint) -> None:
    linted = lint(("references",), ALERT.format(expr='rate(requests_total{outcom="error"}[5m]) > 1'))
    assert linted.of("promql/unknown-label") == [
        "alerts.yaml:3:31: error: `requests_total` has no label `outcom` | hint: did you mean `outcome`?"]


def test_label_value_hit(lint) -> None:
    linted = lint(("references",), ALERT.format(expr='rate(requests_total{outcome="errors"}[5m]) > 1'))
    assert linted.of("promql/label-value") == [
        'alerts.yaml:3:31: error: `outcome` of `requests_total` is never "errors": allowed "error", "ok"'
        " | hint: did you mean `error`?"]


def test_references_miss(lint) -> None:
    linted = lint(("references",), ALERT.format(
        expr='sum by (job, instance) (rate(requests_total{outcome="error",job="shop"}[5m])) > 1'))
    assert linted.problems == []
