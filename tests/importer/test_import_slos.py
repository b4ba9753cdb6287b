"""`monspec import` of Sloth and OpenSLO specs: the SLOs that come out alert on the same burn
factors, windows and objective as Sloth's own rules, and what cannot be mapped is a located error."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from monspec.build import compile_specs
from monspec.errors import SpecError
from monspec.importer import import_file
from monspec.model.objective import objectives
from monspec.spec.durations import parse_duration

CASES = Path(__file__).parent / "slo_cases"

# Sloth's alert pairs for a 30-day period (sloth.dev, "SLO alert windows"): severity, short and
# long window, burn factor; an alert's threshold is factor x (1 - objective / 100).
SLOTH_30D = [("page", "5m", "1h", 14.4), ("page", "30m", "6h", 6.0),
             ("ticket", "2h", "1d", 3.0), ("ticket", "6h", "3d", 1.0)]


def _compiled(case: str, tmp_path: Path):
    specs = tmp_path / "specs"
    specs.mkdir()
    result = import_file(CASES / case)
    (specs / "slos.yaml").write_text(result.text)
    return result, compile_specs(specs).model


def _conditions(model) -> dict[str, list[tuple[str, str, str, float]]]:
    """Per SLO: (severity, short window, long window, threshold) of each burn-rate alert, from the
    rules the model compiled (the conditions the alert expressions are made of)."""
    out: dict[str, list] = {}
    for objective in objectives(model.specs):
        rows = []
        for alert in objective.burn_alerts:
            long, short = alert.rule.conditions
            assert long.op == short.op == ">" and long.value == short.value
            rows.append((alert.severity, alert.window.short, alert.window.long, long.value))
        out[objective.name] = rows
    return out


def test_sloth_multidocument_file_keeps_factors_windows_and_objective(tmp_path: Path) -> None:
    result, model = _compiled("sloth_multidoc.yml", tmp_path)
    assert result.slos == 2
    conditions = _conditions(model)
    for name, objective in (("checkout_requests_availability", "99.9"), ("search_latency", "99")):
        budget = 1 - float(Decimal(objective)) / 100  # Sloth computes the budget in float64
        sloth = [(sev, short, long, factor * budget) for sev, short, long, factor in SLOTH_30D]
        if name == "search_latency":  # its ticket alert is disabled, in Sloth and here
            sloth = [row for row in sloth if row[0] == "page"]
        ours = conditions[name]
        assert [row[:3] for row in ours] == [row[:3] for row in sloth]
        assert all(abs(a[3] - b[3]) <= 1e-12 * b[3] for a, b in zip(ours, sloth, strict=True)), (ours, sloth)
    checkout = model.specs.slos["checkout_requests_availability"]
    assert checkout.sli.ratio is not None and checkout.by == []  # Sloth's sum(rate(...)) events: a testable ratio
    assert checkout.sli.ratio.errors == 'http_requests_total{job="checkout",code=~"(5..|429)"}'
    assert model.specs.slos["search_latency"].sli.raw is not None
    alerts = {rule.name: rule for group in model.groups for rule in group.rules if hasattr(rule, "annotations")}
    page = alerts["CheckoutHighErrorRateBurnRate1h"]
    assert page.labels["severity"] == "critical" and page.labels["category"] == "availability"
    assert page.annotations["summary"] == "High error rate on checkout requests"
    assert page.for_ is None  # Sloth's alerts have no `for`


def test_sloth_kubernetes_form(tmp_path: Path) -> None:
    _, model = _compiled("sloth_kubernetes.yaml", tmp_path)
    [slo] = model.specs.slos.values()
    assert slo.objective == Decimal("99.5") and slo.alerting.ticket.disable
    assert [row[1:3] for row in _conditions(model)[slo.name]] == [("5m", "1h"), ("30m", "6h")]
    assert _conditions(model)[slo.name][0][3] == 0.072


def test_openslo_v1_ratio_of_counters_becomes_a_ratio_sli(tmp_path: Path) -> None:
    _, model = _compiled("openslo_v1.yaml", tmp_path)
    [slo] = model.specs.slos.values()
    assert (slo.name, slo.window, slo.objective) == ("checkout_availability", "28d", Decimal("99.5"))
    assert slo.sli.ratio is not None and slo.sli.ratio.good == 'http_requests_total{job="checkout",code!~"5.."}'


def test_openslo_v1alpha_as_sloth_reads_it(tmp_path: Path) -> None:
    _, model = _compiled("openslo_v1alpha.yml", tmp_path)
    [slo] = model.specs.slos.values()
    assert slo.window == "30d" and slo.objective == Decimal("99.9") and slo.sli.raw is not None
    assert [parse_duration(row[2]) for row in _conditions(model)[slo.name]] == [3600, 21600, 86400, 259200]


@pytest.mark.parametrize(("text", "expected"), [
    ("""\
version: prometheus/v1
service: svc
slos:
  - name: avail
    objective: 99.9
    sli:
      plugin:
        id: sloth-common/kubernetes/apiserver/availability
""", "x.yaml:8:9: error: Sloth SLI `plugin` has no monspec equivalent: use `events` or `raw` queries [import/slo]"),
    ("""\
apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  budgetingMethod: Timeslices
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: Prometheus, spec: {query: x_total}}}
        total: {metricSource: {type: Prometheus, spec: {query: x_total}}}
  objectives: [{target: 0.99}]
""", "x.yaml:5:20: error: budgeting method `Timeslices`: monspec counts occurrences (events), not time slices [import/slo]"),
    ("""\
apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  timeWindow: [{duration: 1M, isRolling: false, calendar: {startTime: "2024-01-01 00:00:00", timeZone: UTC}}]
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: Datadog, spec: {query: x}}}
        total: {metricSource: {type: Prometheus, spec: {query: x_total}}}
  objectives: [{target: 0.99}]
""", "x.yaml:5:16: error: a calendar window: monspec SLOs use rolling windows [import/slo]"),
])
def test_unmappable_fields_are_located_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        import_file(path)
    first = caught.value.problems[0]
    assert f"{Path(str(first.position.file)).name}:{first.position.line}:{first.position.col}: error: " \
           f"{first.message} [{first.id}]" == expected
