"""promtool unit-test scenarios that pin every alert's threshold and `for` (generated/prometheus/tests/).

For each alert whose condition is a comparison with a number (or an `and` of such
comparisons), the generator feeds the *raw* metrics (counters, histogram buckets,
gauges) so the recording rules in between are tested too, and writes:

- "fires": every condition just inside its threshold (2% past it) from t=0. It asserts
  no firing alert one evaluation before the alert fires (held shorter than `for`) and the
  firing alert with its exact labels and rendered annotations when it fires (held as long as
  `for`). A doubled `for` fails the second assertion, a threshold moved past the input
  value fails it too.
- "stays quiet": the condition just outside (2% short of it), no alert at the firing time
  nor at the end. A threshold moved past the outside value fails it. An `and` gets one
  such test per condition (that one outside, the others inside).

Each recording rule gets a `promql_expr_test` with the exact value its inputs give.

Expected values come from `promsim`, which replays Prometheus' arithmetic (rate
extrapolation, histogram_quantile, template functions) bit for bit; promtool confirms.
Rules whose PromQL or annotation templates it cannot replay are listed at the top of
their test file as not covered, with the reason. `promtest.files` decides the files.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

import promql_parser as pp

from monspec import promql
from monspec.model import Model
from monspec.model.catalog import Catalog
from monspec.model.components import metric_component, target_labels
from monspec.model.conditions import PRESENT, unparen
from monspec.model.rules import AlertRule, RecordRule
from monspec.promql import escape_label_value, label_matches
from monspec.promtest.promsim import (
    AlertingRule,
    RecordingRule,
    Simulation,
    Unsupported,
    expand_template,
    key,
    recorded_closure,
    selector_matchers,
)
from monspec.spec.durations import format_duration, parse_duration
from monspec.spec.thresholds import format_number

RATIO_BASE = 1000  # counter increments per input interval behind a ratio
MARGIN = 0.02  # "just inside / outside": 2% of the threshold
ZERO_MARGIN = 1 / 16  # ... and past a threshold of 0, a small exact step: `> 0` nudged to `> 0.1` fails
HISTOGRAM_SPAN = 1000
# A test replays every evaluation of its timeline, here and in promtool: a longer `for` is not tested,
# so neither generate nor `monspec test` grows with the length of `for`.
MAX_EVALUATIONS = 5000


class Untestable(Unsupported):
    """The generator cannot build a meaningful test for this rule."""

    def __init__(self, why: str):
        ValueError.__init__(self, why)


@dataclass(frozen=True)
class Gauge:
    value: float


@dataclass(frozen=True)
class Counter:
    """A series rising by `increment` per input interval from `start` (a counter; with a negative
    start, a timestamp gauge that keeps `time() - x` at a chosen value)."""

    increment: float  # per input interval
    start: float = 0.0


@dataclass
class Leaf:
    """One `<expr> <op> <number>` condition of an alert, with the values just inside and outside it."""

    lhs: object
    op: str
    threshold: float
    negated: bool = False
    shrink: dict = field(default_factory=dict)  # inside -> how far the margin was narrowed to be reachable

    def target(self, inside: bool) -> float:
        thr, op = self.threshold, self.op
        delta = (abs(thr) * MARGIN if thr != 0 else ZERO_MARGIN) / 2 ** self.shrink.get(inside, 0)
        if op == "==":
            return thr if inside else (1 - thr if thr in (0.0, 1.0) else thr + 1)
        if op == "!=":
            return (1 - thr if thr in (0.0, 1.0) else thr + 1) if inside else thr
        high = op in (">", ">=")
        if not inside and thr == 0 and high:
            return 0.0
        return thr + delta if high == inside else thr - delta

    def describe(self, inside: bool) -> str:
        if self.op == PRESENT:
            return "present" if inside else "absent"
        unless = "unless " if self.negated else ""
        return f"{unless}{self.target(inside):.6g} {'inside' if inside else 'outside'} {self.op} {format_number(self.threshold)}"


@dataclass
class Scenario:
    name: str
    inputs: dict
    checks: list = field(default_factory=list)  # (eval_seconds, [alert dicts])


class Generator:
    def __init__(self, model: Model):
        specs = model.specs
        self.specs = specs
        self.catalog: Catalog = model.catalog
        project = specs.project
        self.interval = parse_duration(project.scrape_interval)
        self.eval_interval = parse_duration(project.evaluation_interval)
        self.records = model.recording_rules
        self.sim_rules = [RecordingRule(r.record, r.expr, r.labels) for r in self.records]
        self._chains: dict[str, list[RecordingRule]] = {}
        self._rules_by_name: dict[str, list[RecordingRule]] = {}
        for r in self.sim_rules:
            self._rules_by_name.setdefault(r.record, []).append(r)
        self._order = {id(r): i for i, r in enumerate(self.sim_rules)}  # a chain lists its rules in group order
        self._records_by_name: dict[str, list[RecordRule]] = {}  # driving a recorded series finds its rule here
        for record in self.records:
            self._records_by_name.setdefault(record.record, []).append(record)
        self._record_order = {id(r): i for i, r in enumerate(self.records)}
        self._series: dict[tuple, list[float | None]] = {}
        self._by_samples: dict = {}  # what the simulations work out from samples alone (the lists of _series)

    # --- driving an expression to a value with raw inputs ----------------------------------

    def drive(self, node, target: float) -> dict:
        if isinstance(node, pp.ParenExpr):
            return self.drive(node.expr, target)
        if isinstance(node, pp.AggregateExpr) and str(node.op) in ("sum", "min", "max", "avg"):
            return self.drive(node.expr, target)
        if isinstance(node, pp.BinaryExpr) and str(node.op) in ("*", "/", "+", "-"):
            return self._drive_arith(node, target)
        if isinstance(node, pp.Call) and node.func.name in ("rate", "increase"):
            arg = node.args[0]
            if not isinstance(arg, pp.MatrixSelector):
                raise Unsupported(f"{node.func.name}() of a subquery")
            per_second = target if node.func.name == "rate" else target / arg.range.total_seconds()
            if per_second < 0:
                raise Unsupported("a negative counter rate")
            labels = self._labels(arg.vector_selector, "counter")
            return {key(labels): Counter(per_second * self.interval)}
        if isinstance(node, pp.Call) and node.func.name == "histogram_quantile":
            return self._drive_quantile(node, target)
        if isinstance(node, pp.VectorSelector):
            name, matchers = selector_matchers(node)
            series = self.catalog.get(name) if name else None
            if series is None:
                raise Unsupported(f"the unknown series `{name}`")
            if series.type == "gauge":
                return {key(self._labels(node, "gauge")): Gauge(target)}
            if series.type == "recorded":
                rules = [r for r in self._records_by_name.get(name, []) if _agree(r.labels, matchers)]
                if len(rules) != 1:
                    raise Unsupported(f"`{name}` selects {len(rules)} recording rules")
                return self.drive(promql.parse(rules[0].expr).ast, target)
            raise Unsupported(f"the {series.type} `{name}` read without rate()")
        raise Unsupported(f"driving {type(node).__name__} to a value")

    def _drive_arith(self, node, target: float) -> dict:
        op = str(node.op)
        lhs, rhs = unparen(node.lhs), unparen(node.rhs)
        if isinstance(rhs, pp.NumberLiteral):
            k = float(rhs.val)
            inverse = {"*": target / k if k else math.nan, "/": target * k, "+": target - k, "-": target + k}[op]
            return self.drive(lhs, inverse)
        if isinstance(lhs, pp.NumberLiteral):
            k = float(lhs.val)
            if op == "/" and target == 0:
                raise Unsupported(f"`{format_number(k)} / x` driven to 0")
            inverse = {"*": target / k if k else math.nan, "+": target - k, "-": k - target, "/": k / target if target else 0.0}[op]
            return self.drive(rhs, inverse)
        if isinstance(lhs, pp.Call) and lhs.func.name == "time" and op == "-":
            return self._drive_age(rhs, target)
        if op == "/":
            return self._drive_ratio(lhs, rhs, target)
        raise Unsupported(f"`{op}` between two series other than a ratio of counter rates or `time() - timestamp`")

    def _present(self, node) -> dict:
        """One series the selector of `absent(x)` selects, any value: a counter counting, a gauge at 1."""
        series = self.catalog.get(selector_matchers(node)[0] or "")
        if series is None:
            raise Unsupported("`absent()` of an unknown series")
        if series.type == "gauge":
            return {key(self._labels(node, "gauge")): Gauge(1.0)}
        if series.type == "recorded":
            raise Unsupported("`absent()` of a recorded series")
        return {key(self._labels(node, "counter")): Counter(float(self.interval))}

    def _drive_age(self, node, age: float) -> dict:
        """`time() - x` held at `age`: x is a timestamp gauge rising one second per second from -age."""
        node = unparen(node)
        while isinstance(node, pp.AggregateExpr) and str(node.op) in ("sum", "min", "max", "avg"):
            node = unparen(node.expr)
        if not isinstance(node, pp.VectorSelector):
            raise Unsupported("`time() - x` where x is not a gauge")
        series = self.catalog.get(selector_matchers(node)[0] or "")
        if series is None or series.type != "gauge":
            raise Unsupported("`time() - x` where x is not a gauge")
        return {key(self._labels(node, "gauge")): Counter(float(self.interval), start=-age)}

    def _drive_ratio(self, lhs, rhs, target: float) -> dict:
        num, den = _counter_selector(lhs), _counter_selector(rhs)
        if num is None or den is None:
            raise Unsupported("a ratio other than rate(counter) / rate(counter)")
        n_name, n_matchers = selector_matchers(num)
        d_name, d_matchers = selector_matchers(den)
        if target < 0:
            raise Unsupported("a negative ratio")
        if n_name != d_name:
            den_labels = self._labels(den, "counter")
            num_labels = self._labels(num, "counter")
            base = _base_for(target)
            return {key(den_labels): Counter(float(base * self.interval)),
                    key(num_labels): Counter(float(round(target * base) * self.interval))}
        if target > 1:
            raise Unsupported("a share above 1 of one counter")
        both = self._combo(n_name, n_matchers + d_matchers, [])
        rest = self._combo(d_name, d_matchers, n_matchers)
        base = _base_for(target)
        hits = round(target * base)
        # Whole counts per *second* (increments of count x interval): every rate is an integer, so sums
        # over many series are exact in any order (Prometheus sums in map order, which varies per run).
        out = {key(both): Counter(float(hits * self.interval))}
        if hits < base:
            out[key(rest)] = Counter(float((base - hits) * self.interval))
        return out

    def _drive_quantile(self, node, target: float) -> dict:
        q_node, inner = unparen(node.args[0]), node.args[1]
        if not isinstance(q_node, pp.NumberLiteral):
            raise Unsupported("histogram_quantile with a computed quantile")
        q = float(q_node.val)
        bucket = _counter_selector(inner)
        if bucket is None:
            raise Unsupported("histogram_quantile over something other than rate(<histogram>_bucket)")
        name, _ = selector_matchers(bucket)
        series = self.catalog.get(name)
        if series is None or series.type != "histogram_bucket" or series.metric is None or not series.metric.buckets:
            raise Unsupported(f"histogram_quantile over `{name}`, which has no bucket list in the catalog")
        bounds = series.metric.buckets
        i = next((i for i, b in enumerate(bounds) if target <= b), None)
        if i is None or i == 0 or not 0 < q < 1:
            raise Unsupported(f"a quantile of {format_number(target)} outside the histogram's buckets")
        lo, hi = bounds[i - 1], bounds[i]
        p = (target - lo) / (hi - lo)
        span = HISTOGRAM_SPAN
        total = max(math.ceil(span * (1 - p) / (1 - q)), math.ceil(p * span / q)) + 1
        below = round(q * total - p * span)
        below = min(max(below, 0), total - span)
        base = self._labels(bucket, "counter", skip=("le",))
        out = {}
        for le, count in ((lo, below), (hi, below + span), (math.inf, total)):
            labels = {**base, "le": _le(le)}
            out[key(labels)] = Counter(float(count * self.interval))  # whole counts per second, as above
        return out

    def _target(self, name: str, matchers: list) -> dict[str, str]:
        """The scrape labels (job, instance, selector) of the component exporting `name`; for a series
        of no component (`up`), of the first component the selector's matchers admit."""
        component = metric_component(self.specs, name)
        for option in [component] if component else list(self.specs.project.scrape_jobs):
            labels = target_labels(self.specs, option)
            if all(label_matches(op, value, labels[label]) for label, op, value in matchers if label in labels):
                return labels
        label, op, value = next((m for m in matchers if m[0] in ("job", "instance")), ("job", "=", "?"))
        raise Unsupported(f"a selector on {label}{op}\"{value}\"")

    def _labels(self, selector, kind: str, skip: tuple = ()) -> dict[str, str]:
        name, matchers = selector_matchers(selector)
        series = self.catalog.get(name)
        labels = {"__name__": name, **self._target(name, matchers)}
        known = series.labels if series is not None else {}
        for label, allowed in sorted(known.items()):
            if label in skip or label in labels:
                continue
            wanted = [(op, v) for lbl, op, v in matchers if lbl == label]
            candidates = sorted(allowed) if allowed else _open_values(wanted)
            choice = next((c for c in candidates if all(label_matches(op, v, c) for op, v in wanted)), None)
            if choice is None:
                raise Unsupported(f"no allowed value of `{label}` matches the selector")
            labels[label] = choice
        for label, op, value in matchers:
            if label not in labels and op == "=" and label not in skip:
                labels[label] = value
        return labels

    def _combo(self, name: str, must: list, must_not: list) -> dict[str, str]:
        """Labels of one series of `name` matching all of `must` and not all of `must_not`."""
        series = self.catalog.get(name)
        if series is None:
            raise Unsupported(f"a ratio over the unknown series `{name}`")
        names = sorted(series.labels)
        target = self._target(name, must)
        # A label listed as `any` takes the values the matchers name (or witnesses of their regexes) and one
        # other value, so the denominator can hold a series the numerator does not.
        choices = [sorted(allowed) if (allowed := series.labels[n]) is not None
                   else _open_values([(op, v) for lbl, op, v in must + must_not if lbl == n], other=True) for n in names]
        for values in itertools.product(*choices):
            labels = {"__name__": name, **target, **dict(zip(names, values, strict=False))}
            if not all(label_matches(op, v, labels.get(lbl, "")) for lbl, op, v in must):
                continue
            if must_not and all(label_matches(op, v, labels.get(lbl, "")) for lbl, op, v in must_not):
                continue
            return labels
        raise Unsupported(f"no series of `{name}` is in the denominator but not the numerator")

    def chain_window(self, expr: str) -> float:
        """The longest range window on the way from raw metrics to expr, through recording rules."""
        return max([_max_range(expr)] + [_max_range(rule.expr) for rule in self.chain(expr)])

    # --- simulation --------------------------------------------------------------------------

    def chain(self, expr: str) -> list[RecordingRule]:
        """The recording rules expr reads, directly or through each other, in group order:
        a simulation needs only these, which keeps large spec sets linear."""
        cached = self._chains.get(expr)
        if cached is None:
            needed = recorded_closure(expr, self._rules_by_name)
            cached = self._chains[expr] = sorted((r for name in needed for r in self._rules_by_name[name]),
                                                 key=lambda r: self._order[id(r)])
        return cached

    def records_of(self, names: frozenset[str]) -> list[RecordRule]:
        """The recording rules recording any of `names`, in rules.yml order."""
        return sorted((r for name in names for r in self._records_by_name.get(name, [])), key=lambda r: self._record_order[id(r)])

    def simulation(self, inputs: dict, rule: AlertingRule, horizon: float) -> Simulation:
        steps = int(round(horizon / self.interval))
        return Simulation(self.series_values(inputs, steps), self.interval, self.chain(rule.expr), by_samples=self._by_samples)

    def series_values(self, inputs: dict, steps: int) -> dict[tuple, list[float | None]]:
        """The `samples` of each input series, each built once: the scenarios of an alert share most of
        their inputs (kept by the spec's repr, which tells 0.0 from -0.0 and 1 from 1.0; simulations
        never change their inputs)."""
        out = {}
        for k, spec in inputs.items():
            cache_key = (repr(spec), steps)
            values = self._series.get(cache_key)
            if values is None:
                values = self._series[cache_key] = samples(spec, steps)
            out[k] = values
        return out

    def ticks(self, horizon: float) -> list[float]:
        return [i * self.eval_interval for i in range(int(horizon / self.eval_interval) + 1)]

    def reachable(self, leaf: Leaf, inside: bool) -> dict:
        """Inputs driving the leaf just inside or outside its threshold. A bounded value (a share of 1,
        a non-negative rate) may not reach 2% past it (availability `< 0.99` has no outside at 1.0098):
        then the margin halves until the value is reachable (up to 1/64 of it)."""
        if leaf.op == PRESENT:
            return self._present(leaf.lhs) if inside else {}
        for shrink in range(7):
            leaf.shrink[inside] = shrink
            try:
                return self.drive(leaf.lhs, leaf.target(inside))
            except Unsupported:
                if shrink == 6:
                    raise
        raise AssertionError("unreachable")

    def merged(self, leaves: list[Leaf], inside: list[bool]) -> dict:
        out: dict = {}
        for leaf, want in zip(leaves, inside, strict=False):
            for k, spec in self.reachable(leaf, want).items():
                if k in out and out[k] != spec:
                    raise Untestable("two of its conditions need different values of the same series")
                out[k] = spec
        return out

    def alert_scenarios(self, alert: AlertRule) -> list[Scenario]:
        if not alert.conditions:
            raise Untestable("its condition is not `<expr> <comparison> <number>` (nor such comparisons joined by and, or, unless)")
        absent = alert.absent
        leaves = [Leaf(c.lhs, c.op, c.value, c.negated) for c in alert.conditions]
        branches = [c.branch for c in alert.conditions]
        for_seconds = parse_duration(alert.for_) if alert.for_ else 0.0
        horizon = _ceil(for_seconds + self.chain_window(alert.expr) + 300, self.eval_interval)
        if horizon / self.eval_interval > MAX_EVALUATIONS:
            raise Untestable(f"its test would take {horizon / self.eval_interval:,.0f} evaluations of "
                             f"{format_duration(self.eval_interval)} (its `for` is {alert.for_}); "
                             f"monspec plans tests of at most {MAX_EVALUATIONS:,}")
        rule = AlertingRule(alert.name, alert.expr, for_seconds, alert.labels)
        scenarios: list[Scenario] = []
        # One firing state per branch of an `or` (the others false). Within it, a condition fires the
        # alert when inside its threshold, the absence alert when its inner condition is *not* met,
        # `unless` when its right side is not.
        for branch in sorted(set(branches)):
            fire_inside = [(leaf.negated == absent) == (b == branch) for leaf, b in zip(leaves, branches, strict=True)]
            scenarios += self._branch_scenarios(alert, rule, leaves, fire_inside, branches, branch, for_seconds, horizon)
        return scenarios

    def _branch_scenarios(self, alert: AlertRule, rule: AlertingRule, leaves: list[Leaf], fire_inside: list[bool],
                          branches: list[int], branch: int, for_seconds: float, horizon: float) -> list[Scenario]:
        """The fires test of one firing state, and a stays-quiet test per condition of its branch (that one flipped)."""
        fire = self.merged(leaves, fire_inside)
        states = self.simulation(fire, rule, horizon).run_alert(rule, self.ticks(horizon), until_firing=True)
        firing_at = next((t for t, alerts in states.items() if any(a.firing for a in alerts)), None)
        if firing_at is None:
            raise Untestable(f"its inside values never make it fire within {format_duration(horizon)}")
        firing = [a for a in states[firing_at] if a.firing]
        expected = [self._expected(alert, a) for a in firing]
        scenario = Scenario(f"{alert.name} fires: {_describe(leaves, fire_inside)}", fire)
        if for_seconds > 0:
            before = firing_at - self.eval_interval
            if before < 0 or any(a.firing for a in states[before]) or not states[before]:
                raise Untestable("it is not pending one evaluation before it fires (a `for` shorter than the evaluation interval?)")
            scenario.checks.append((before, []))
        scenario.checks.append((firing_at, expected))
        scenarios = [scenario]
        quiet_sets = [[want != (j == i) for j, want in enumerate(fire_inside)]
                      for i in range(len(leaves)) if branches[i] == branch]
        if alert.absent:
            quiet_sets = [[True] * len(leaves)]
        end = self.ticks(horizon)[-1]
        for inside in quiet_sets:
            inputs = self.merged(leaves, inside)
            times = sorted({firing_at, end})
            sim = self.simulation(inputs, rule, horizon)
            if not sim.proved_quiet(rule, times, self.eval_interval):
                quiet_states = self.simulation(inputs, rule, horizon).run_alert(rule, self.ticks(horizon))
                if any(a.firing for t in times for a in quiet_states[t]):
                    raise Untestable("its outside values make it fire too")
            scenarios.append(Scenario(f"{alert.name} stays quiet: {_describe(leaves, inside)}", inputs, [(t, []) for t in times]))
        return scenarios

    def _expected(self, alert: AlertRule, state) -> dict:
        labels = {k: v for k, v in state.labels.items() if k != "alertname"}
        # Templates see the sample's labels as $labels, not the rule's own labels.
        annotations = {k: expand_template(v, state.value, state.sample_labels) for k, v in alert.annotations.items()}
        return {"labels": dict(sorted(labels.items())), "annotations": dict(sorted(annotations.items()))}

    def distractors(self, inputs: dict) -> dict:
        """Series of the same metrics that differ in one label value, so a rule whose matchers
        let them in gets another value: counters with small odd whole rates, histogram buckets
        with every observation above the highest finite bound."""
        extra: dict = {}
        n = 0
        for k, spec in sorted(inputs.items()):
            labels = dict(k)
            series = self.catalog.get(labels["__name__"])
            if series is None or not isinstance(spec, Counter):
                continue
            for label, allowed in sorted(series.labels.items()):
                if label == "le" or not allowed:
                    continue
                for value in sorted(allowed):
                    other = key({**labels, label: value})
                    if value == labels.get(label) or other in inputs or other in extra:
                        continue
                    if series.type == "histogram_bucket":
                        extra[other] = spec if labels.get("le") == "+Inf" else Counter(0.0)
                    else:
                        n += 1
                        extra[other] = Counter(float((2 * n + 1) * self.interval))  # odd whole rates per second
        return extra

    def record_scenario(self, rule: RecordRule) -> Scenario:
        ast = promql.parse(rule.expr).ast
        target = _nice_target(rule, self.catalog)
        inputs = self.drive(ast, target)
        inputs.update(self.distractors(inputs))
        at = _ceil(_max_range(rule.expr) + 300, self.eval_interval)
        steps = int(round(at / self.interval))
        selector = selector_text(rule.record, rule.labels)
        sim = Simulation(self.series_values(inputs, steps), self.interval, self.chain(selector), by_samples=self._by_samples)
        sim.record(at)
        wanted = promql.parse(selector).ast
        samples = sim.eval(wanted, at)
        if not samples:
            raise Untestable("its inputs give no sample")
        exp = [(s.labels, s.value) for s in samples]
        labels_text = " ".join(f"{k}={v}" for k, v in rule.labels.items())
        scenario = Scenario(f"recording rule {rule.record}{' ' + labels_text if labels_text else ''}", inputs)
        scenario.checks.append((at, {"expr": selector, "samples": exp}))
        return scenario


def _describe(leaves: list[Leaf], inside: list[bool]) -> str:
    return " and ".join(leaf.describe(want) for leaf, want in zip(leaves, inside, strict=True))


def _open_values(matchers: list, other: bool = False) -> list[str]:
    """Label values to try for a label listed as `any`: those the matchers name, a witness of each regex
    (`5..` -> "500", `a|b` -> "a", "b"), "example", and with `other` a value no matcher names."""
    values = [v for op, v in matchers if op == "="]
    for op, pattern in matchers:
        if op in ("=~", "!~"):
            for alternative in pattern.split("|"):
                witness = re.sub(r"\\d|\.", "0", alternative.strip("^$()"))
                if re.fullmatch(pattern, witness):
                    values.append(witness)
    values.append("example")
    if other:
        values.append("other")
    return list(dict.fromkeys(values))



def _counter_selector(node):
    """The selector under rate()/increase() in `agg(rate(sel[w]))`, else None."""
    node = unparen(node)
    while isinstance(node, pp.AggregateExpr) and str(node.op) == "sum":
        node = unparen(node.expr)
    if isinstance(node, pp.Call) and node.func.name in ("rate", "increase") and isinstance(node.args[0], pp.MatrixSelector):
        return node.args[0].vector_selector
    return None


def _base_for(target: float) -> int:
    """Increments per interval behind a ratio: enough that target * base is a whole number."""
    for base in (RATIO_BASE, 10 * RATIO_BASE, 100 * RATIO_BASE):
        if abs(target * base - round(target * base)) < 1e-6:
            return base
    return 1000 * RATIO_BASE


@lru_cache(maxsize=65536)  # every rule of a large spec set, asked once per scenario
def _max_range(expr: str) -> float:
    found = [0.0]

    def pre(node):
        if isinstance(node, pp.MatrixSelector):
            found.append(node.range.total_seconds())

    pp.walk(cast(pp.Expr, promql.parse(expr).ast), pre, lambda node: None)
    return max(found)


def _ceil(seconds: float, step: float) -> float:
    return math.ceil(seconds / step - 1e-9) * step


def _agree(rule_labels: dict[str, str], matchers: list) -> bool:
    return all(label_matches(op, v, rule_labels[lbl]) for lbl, op, v in matchers if lbl in rule_labels)


def _le(bound: float) -> str:
    if math.isinf(bound):
        return "+Inf"
    return repr(float(bound))


def _nice_target(rule: RecordRule, catalog: Catalog) -> float:
    unit = rule.entity.unit
    if unit == "ratio":
        return 0.75
    if unit == "seconds":
        ast = promql.parse(rule.expr).ast
        bucket = _counter_selector(ast.args[1]) if isinstance(ast, pp.Call) and ast.func.name == "histogram_quantile" else None
        series = catalog.get(selector_matchers(bucket)[0]) if bucket is not None else None
        if series is not None and series.metric is not None and series.metric.buckets and len(series.metric.buckets) > 2:
            bounds = series.metric.buckets
            mid = len(bounds) // 2
            return (bounds[mid - 1] + bounds[mid]) / 2
        return 1.5
    if unit == "keys":
        return 40.0
    return 12.5


def selector_text(name: str, labels: dict[str, str]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def series_text(k) -> str:
    labels = dict(k)
    name = labels.pop("__name__")
    return selector_text(name, labels)


def number_text(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return format_number(value)


def samples(spec: Gauge | Counter, steps: int) -> list[float | None]:
    """The samples promtool reads from `values_text` notation: steps + 1 of them, from t=0."""
    if isinstance(spec, Gauge):
        return [spec.value] * (steps + 1)
    acc, values = spec.start, list[float | None]()
    for _ in range(steps + 1):  # promtool's `0+7x30` accumulates, it does not multiply
        values.append(acc)
        acc += spec.increment
    return values


def values_text(spec, steps: int) -> str:
    """promtool's notation of the `samples` the simulation reads."""
    if isinstance(spec, Gauge):
        return f"{number_text(spec.value)}+0x{steps}"
    return f"{number_text(spec.start)}+{number_text(spec.increment)}x{steps}"
