"""promsim replays Prometheus' arithmetic: values here were read from promtool 2.42 itself."""
from __future__ import annotations

import itertools
import math
import random

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


# --- frames: all ticks of a chunk evaluated at once give what each tick alone gives ------------------------

_FRAME_EXPRS = [
    "rate(c[1m])", "increase(c[2m])", "sum by (job) (rate(c[1m]))", "avg by (job) (g)", "min without (instance) (g)",
    "max(g)", "count by (job) (g)", "sum by (job) (rate(c{k=\"a\"}[1m])) / sum by (job) (rate(c[1m]))",
    "rate(c[1m]) > 0.5", "g * 2 + 1", "2 - g", "-g", "g / 0", "g % 2", "g > bool 2", "2 < bool g", "time() - g",
    "absent(g{job=\"x\"})", "absent(g > 3)", "histogram_quantile(0.9, sum by (job, le) (rate(h_bucket[1m])))",
    "g and on (instance) c", "g unless on (instance) (c > 5)", "(g > 2) or (c < 10)",
    "g - on (instance, job, k) ((c < 5) or (c >= 5))", "c - on (instance) g", "rec > 0.1", "rec2 + rec", "rate(rec[1m])",
]
_FRAME_RULES = [RecordingRule("rec", "sum by (job) (rate(c[1m]))", {}), RecordingRule("rec2", "rec * 2", {"x": "y"}),
                RecordingRule("rec", "max by (job) (g) > 2", {})]


def _random_inputs(seed: int, steps: int) -> dict:
    """Counters that reset now and then, gauges, histogram buckets; half of the series miss samples."""
    rng = random.Random(seed)

    def series(counter: bool) -> list[float | None]:
        values: list[float | None] = []
        acc = rng.choice([0.0, 5.0, -3.0])
        for _ in range(steps + 1):
            if counter:
                acc = rng.choice([0.0, 1.0, 3.0]) if rng.random() < 0.08 else acc + rng.choice([0.0, 1.0, 7.0, 0.1, 2.5])
            values.append(acc if counter else rng.choice([0.0, 1.0, 2.0, 3.5, -1.0, 1e-3, 100.0]))
        return values if rng.random() < 0.5 else [None if rng.random() < 0.12 else v for v in values]

    inputs = {}
    for job, instance in itertools.product("ab", "12"):
        for k in "ab":
            inputs[key({"__name__": "c", "job": job, "instance": instance, "k": k})] = series(True)
            inputs[key({"__name__": "g", "job": job, "instance": instance, "k": k})] = series(False)
        for le in ("0.1", "1", "+Inf"):
            inputs[key({"__name__": "h_bucket", "job": job, "instance": instance, "le": le})] = series(True)
    return inputs


def _ticks_of(sim: Simulation, rule: AlertingRule, chunks: list[list[float]]) -> list[tuple[float, str]] | str:
    """Each tick's vector (values by repr, so -0.0 and NaN compare too), or the error."""
    try:
        return [(t, repr(vector)) for t, vector in sim.conditions(rule, chunks)]
    except Unsupported as exc:
        return str(exc)


@pytest.mark.parametrize("seed", range(12))
def test_a_frame_of_ticks_gives_what_each_tick_alone_gives(seed: int) -> None:
    inputs = _random_inputs(seed, 40)
    ticks = [i * 30.0 for i in range(23)]
    shared: dict = {}  # as the scenarios share it: what samples alone give, kept between simulations
    for expr in _FRAME_EXPRS:
        rule = AlertingRule("A", expr, 0.0, {})
        alone = _ticks_of(Simulation(inputs, 15.0, _FRAME_RULES), rule, [[t] for t in ticks])
        assert _ticks_of(Simulation(inputs, 15.0, _FRAME_RULES, by_samples=shared), rule, [ticks]) == alone, expr
        assert _ticks_of(Simulation(inputs, 15.0, _FRAME_RULES, by_samples=shared), rule, [ticks[:5], ticks[5:]]) == alone, expr


def test_a_frame_failing_at_a_later_tick_fails_only_where_that_tick_is_reached() -> None:
    """Two right-hand series of one instance exist together from t=60 on (many-to-one): an alert firing at t=30
    fires; asking every tick fails, as asking tick by tick does."""
    inputs = {key({"__name__": "a", "instance": "1"}): [1.0] * 10,
              key({"__name__": "b", "instance": "1", "k": "x"}): [1.0] * 10,
              key({"__name__": "b", "instance": "1", "k": "y"}): [None] * 4 + [1.0] * 6}
    rule = AlertingRule("A", "a - on (instance) b == 0", 30.0, {})
    states = Simulation(inputs, 15.0).run_alert(rule, [0.0, 30.0, 60.0, 90.0], until_firing=True)
    assert [(t, [a.firing for a in alerts]) for t, alerts in states.items()] == [(0.0, [False]), (30.0, [True])]
    with pytest.raises(Unsupported, match="many-to-one matching"):
        Simulation(inputs, 15.0).run_alert(rule, [0.0, 30.0, 60.0, 90.0])


def test_series_matched_at_different_ticks() -> None:
    """The right side of `on (instance)` is one series up to t=30 and another after it (an `or`); `unless`
    drops the left side only where the right has a sample; absent() and count() tick by tick."""
    inputs = {key({"__name__": "a", "instance": "1"}): [10.0] * 8,
              key({"__name__": "b", "instance": "1", "k": "x"}): [1.0, 1.0, 1.0, 9.0, 9.0, 9.0, 9.0, 9.0],
              key({"__name__": "b", "instance": "1", "k": "y"}): [2.0] * 8}
    sim = Simulation(inputs, 15.0)
    ticks = [0.0, 30.0, 45.0, 60.0]
    frame = sim.conditions(AlertingRule("A", "a - on (instance) (b{k=\"x\"} < 5 or on (instance) b{k=\"y\"})", 0.0, {}), [ticks])
    assert [(t, [value for _, value in vector]) for t, vector in frame] == [(0.0, [9.0]), (30.0, [9.0]), (45.0, [8.0]), (60.0, [8.0])]
    frame = sim.conditions(AlertingRule("A", "a unless on (instance) b{k=\"x\"} > 5", 0.0, {}), [ticks])
    assert [(t, len(vector)) for t, vector in frame] == [(0.0, 1), (30.0, 1), (45.0, 0), (60.0, 0)]
    frame = sim.conditions(AlertingRule("A", "absent(b{k=\"x\"} > 5)", 0.0, {}), [ticks])
    assert [(t, vector) for t, vector in frame] == [(0.0, [((), 1.0)]), (30.0, [((), 1.0)]), (45.0, []), (60.0, [])]
    frame = sim.conditions(AlertingRule("A", "count(b < 5)", 0.0, {}), [ticks])
    assert [(t, vector) for t, vector in frame] == [(0.0, [((), 2.0)]), (30.0, [((), 2.0)]), (45.0, [((), 1.0)]), (60.0, [((), 1.0)])]


def test_sum_adds_in_label_order_at_every_tick() -> None:
    """(0.1 + 0.2) + 0.3 is 0.6000000000000001, (0.3 + 0.2) + 0.1 is 0.6: the order is part of the result."""
    inputs = {key({"__name__": "g", "i": str(i)}): [value] * 5 for i, value in ((1, 0.1), (2, 0.2), (3, 0.3))}
    frame = Simulation(inputs, 15.0).conditions(AlertingRule("A", "sum(g)", 0.0, {}), [[0.0, 30.0, 60.0]])
    assert [vector for _, vector in frame] == [[((), 0.6000000000000001)]] * 3


@pytest.mark.parametrize("expr", ['{job="j"} == 0', 'rate({__name__=~"c.*"}[5m]) > 0', 'absent({job="x"})'])
def test_a_selector_without_a_metric_name_is_not_replayed(expr: str) -> None:
    """It may read any series, recorded ones too: which recording rules it needs is unknown, so the
    alert is named as not covered instead of replayed as if it selected nothing."""
    import promql_parser as pp

    sim = Simulation({key({"__name__": "c", "job": "j"}): _counter(7, 30)}, 60.0)
    with pytest.raises(Unsupported, match="a selector without a metric name"):
        sim.eval(pp.parse(expr), 300.0)
