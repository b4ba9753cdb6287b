"""promsim replays Prometheus' arithmetic: values here were read from promtool 2.42 itself."""
from __future__ import annotations

import math

import pytest

from monspec.promtest.promsim import (
    AlertingRule,
    RecordingRule,
    Simulation,
    Unsupported,
    expand_template,
    go_value,
    humanize,
    humanize_duration,
    humanize_percentage,
    key,
)


def _counter(increment: float, steps: int) -> list[float]:
    values, acc = [], 0.0
    for _ in range(steps + 1):
        values.append(acc)
        acc += increment  # promtool's `0+7x30` accumulates, it does not multiply
    return values


def test_rate_extrapolation_matches_promtool() -> None:
    sim = Simulation({key({"__name__": "c"}): _counter(7, 30)}, 60.0, [RecordingRule("x:rate", "rate(c[5m])", {})])
    sim.record(60.0)
    sim.record(300.0)
    assert sim.recorded[60.0] == {key({"__name__": "x:rate"}): 0.023333333333333334}
    assert sim.recorded[300.0] == {key({"__name__": "x:rate"}): 0.11666666666666667}


def test_rate_across_a_counter_reset_and_missing_samples_matches_promtool() -> None:
    """The reset pass runs only for windows holding a drop (the 3 after 14); gaps (`_` in promtool) take
    the slow path over the samples there are."""
    counter = [0.0, 7.0, 14.0, 3.0, 10.0, 17.0, 24.0, 31.0, 38.0, 45.0, 52.0]
    gappy = [0.0, 7.0, None, 21.0, 28.0, None, 42.0, 49.0, None, None, 70.0]
    sim = Simulation({key({"__name__": "c"}): counter, key({"__name__": "g"}): gappy}, 60.0,
                     [RecordingRule("c:rate", "rate(c[5m])", {}), RecordingRule("g:increase", "increase(g[5m])", {})])
    for t in (240.0, 300.0, 600.0):
        sim.record(t)
    assert [sim.recorded[t][key({"__name__": "c:rate"})] for t in (240.0, 300.0, 600.0)] == [
        0.08, 0.10333333333333335, 0.11666666666666667]
    assert [sim.recorded[t][key({"__name__": "g:increase"})] for t in (240.0, 300.0, 600.0)] == [28.0, 35.0, 35.0]


def test_histogram_quantile_matches_promtool() -> None:
    base = {"__name__": "h_bucket", "job": "j"}
    inputs = {key({**base, "le": le}): _counter(n, 40) for le, n in (("0.01", 900), ("0.025", 1000), ("+Inf", 1000))}
    sim = Simulation(inputs, 15.0, [RecordingRule("p95", "histogram_quantile(0.95, sum by (job, le) (rate(h_bucket[5m])))", {})])
    sim.record(300.0)
    assert sim.recorded[300.0] == {key({"__name__": "p95", "job": "j"}): 0.01749999999999999}


def test_alert_pending_then_firing() -> None:
    sim = Simulation({key({"__name__": "up", "job": "j"}): [0.0] * 20}, 15.0)
    states = sim.run_alert(AlertingRule("Down", "up == 0", 60.0, {"severity": "critical"}), [0.0, 30.0, 60.0])
    assert [(s.firing, s.active_at) for s in states[30.0]] == [(False, 0.0)]
    [firing] = states[60.0]
    assert firing.firing and firing.labels == {"alertname": "Down", "job": "j", "severity": "critical"}


def test_and_on_keeps_left_values_of_matching_instances() -> None:
    inputs = {key({"__name__": "a", "instance": "1"}): [0.0] * 3, key({"__name__": "b", "instance": "1"}): [0.0] * 3,
              key({"__name__": "a", "instance": "2"}): [0.0] * 3, key({"__name__": "b", "instance": "2"}): [1.0] * 3}
    sim = Simulation(inputs, 15.0)
    import promql_parser as pp
    result = sim.eval(pp.parse("a == 0 and on (instance) b == 0"), 30.0)
    assert [(s.labels, s.value) for s in result] == [({"__name__": "a", "instance": "1"}, 0.0)]


@pytest.mark.parametrize("value, text", [(0.686, "68.6%"), (0.6, "60%"), (0.95, "95%"), (1.0, "100%")])
def test_humanize_percentage(value: float, text: str) -> None:
    assert humanize_percentage(value) == text


@pytest.mark.parametrize("value, text", [(0.0102, "10.2ms"), (0.0175, "17.5ms"), (0.0000051, "5.1us"), (0, "0s"),
                                         (1.5, "1.5s"), (90, "1m 30s"), (3725, "1h 2m 5s")])
def test_humanize_duration(value: float, text: str) -> None:
    assert humanize_duration(value) == text


@pytest.mark.parametrize("value, text", [(19.6, "19.6"), (1234, "1.234k"), (0.005, "5m"), (0, "0")])
def test_humanize(value: float, text: str) -> None:
    assert humanize(value) == text


@pytest.mark.parametrize("value, text", [(0.69, "0.69"), (1e6, "1e+06"), (123456.0, "123456"), (1.5e-05, "1.5e-05"),
                                         (-3.0, "-3"), (math.inf, "+Inf")])
def test_go_value(value: float, text: str) -> None:
    assert go_value(value) == text


def test_templates() -> None:
    assert expand_template('{{ $value | printf "%.1f" }} errors/min on {{ $labels.instance }}', 2.0000000000000004,
                           {"instance": "a:1"}) == "2.0 errors/min on a:1"
    assert expand_template("plain", 1.0, {}) == "plain"
    with pytest.raises(Unsupported, match=r"cannot replay the template action \{\{ and \}\}"):
        expand_template("{{ and }}", 1.0, {})


def test_templates_see_the_samples_labels_not_the_rules() -> None:
    sim = Simulation({key({"__name__": "up", "job": "j"}): [0.0] * 5}, 15.0)
    [state] = sim.run_alert(AlertingRule("Down", "up == 0", 0.0, {"severity": "critical"}), [0.0])[0.0]
    assert state.labels == {"alertname": "Down", "job": "j", "severity": "critical"}
    assert state.sample_labels == {"__name__": "up", "job": "j"}
    assert expand_template("{{ $labels.job }}/{{ $labels.severity }}", state.value, state.sample_labels) == "j/<no value>"
