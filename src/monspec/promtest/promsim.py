"""A small PromQL evaluator that replays what promtool does in a rule unit test.

It knows the subset that rules in specs use: selectors, rate / increase (with Prometheus'
extrapolation), sum / min / max / avg / count by / without, histogram_quantile,
absent, arithmetic and comparisons with scalars and one-to-one vector matching, `and`
/ `unless` with on / ignoring. Anything else raises `Unsupported`, and the test
generator leaves that rule out (saying so in the file) rather than guessing.

Values follow Prometheus 2.x: a range [t-r, t] includes both ends, instant selectors
look back 5m, the recording group is evaluated before the alerting group at every tick,
and an alert fires once it has been active for `for`. Arithmetic is done in the same
order Go does it so expected values are bit-exact.
"""
from __future__ import annotations

import itertools
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

import promql_parser as pp

from monspec import promql
from monspec.promql import label_matches

LOOKBACK = 300.0

LabelKey = tuple  # sorted ((name, value), ...) including __name__


class Unsupported(ValueError):
    """The expression uses PromQL (or template code) this evaluator does not replay."""

    def __init__(self, what: str):
        super().__init__(f"cannot replay {what}")


def key(labels: dict[str, str]) -> LabelKey:
    return tuple(sorted(labels.items()))


@dataclass
class Sample:
    labels: dict[str, str]
    value: float


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}
_ARITH: dict[str, Callable[[float, float], float]] = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def _arith(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * (1 if not math.copysign(1, b) < 0 else -1)
        return a / b
    if op == "%":
        return math.fmod(a, b) if b != 0 else math.nan
    return a ** b


_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def selector_matchers(node) -> tuple[str, list[tuple[str, str, str]]]:
    """(metric name, [(label, op, value)]) of a VectorSelector."""
    name = node.name
    matchers = []
    for m in node.matchers.matchers:
        op = _MATCH_OPS[str(m.op)]
        if m.name == "__name__" and op == "=":
            name = m.value
        else:
            matchers.append((m.name, op, m.value))
    return name or "", matchers


@dataclass
class RecordingRule:
    record: str
    expr: str
    labels: dict[str, str]


@dataclass
class AlertingRule:
    name: str
    expr: str
    for_seconds: float
    labels: dict[str, str]


@dataclass
class AlertState:
    labels: dict[str, str]  # the alert's labels: the sample's, the rule's, alertname
    active_at: float
    value: float
    firing: bool = False
    sample_labels: dict[str, str] = field(default_factory=dict)  # what templates see as $labels


@dataclass
class Simulation:
    """Input series sampled every `interval` seconds from t=0, rules evaluated every `eval_interval`."""

    inputs: dict[LabelKey, list[float | None]]
    interval: float
    recording: list[RecordingRule] = field(default_factory=list)
    recorded: dict[float, dict[LabelKey, float]] = field(default_factory=dict)
    # What input samples alone give (their counter resets; rate() over a frame's ticks), by the samples' id (the
    # entry keeps them alive): simulations sharing this dict and sample lists (a spec set's scenarios) work each out once.
    by_samples: dict[tuple, tuple[list, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Indexes, so a spec set with many rules costs linear time, not rules x rules.
        self._rules_by_name: dict[str, list[RecordingRule]] = {}
        for rule in self.recording:
            self._rules_by_name.setdefault(rule.record, []).append(rule)
        self._recorded_names: set[str] = set()
        self._order = {id(rule): i for i, rule in enumerate(self.recording)}
        self._raw_cache: dict = {}
        self._by_name: dict[str | None, list[tuple[LabelKey, LabelKey, dict[str, str], list[float | None]]]] | None = None
        self._needed: dict[str, list[RecordingRule]] = {}

    # --- series access -------------------------------------------------------------------

    def _raw(self, name, matchers) -> list[RawSeries]:
        """Input series a selector matches, in label order; the inputs never change, so each answer is kept."""
        cache_key = (name, matchers)
        cached = self._raw_cache.get(cache_key)
        if cached is None:
            cached = self._raw_cache[cache_key] = self._raw_uncached(name, matchers)
        return cached

    def _raw_uncached(self, name, matchers) -> list[RawSeries]:
        if self._by_name is None:
            self._by_name = {}
            for k, values in self.inputs.items():
                labels_key, dropped, labels = _series_labels(k)
                self._by_name.setdefault(labels.get("__name__"), []).append((labels_key, dropped, labels, values))
        out = []
        for labels_key, dropped, labels, values in self._by_name.get(name, ()):  # a selector always names its metric
            if all(label_matches(op, v, labels.get(lbl, "")) for lbl, op, v in matchers):
                out.append((labels_key, dropped, values, self._resets(values)))
        return sorted(out, key=lambda item: item[0])

    def _resets(self, values: list[float | None]) -> list[int] | None:
        """`_drops` of gapless samples (None: samples missing), worked out once per sample list."""
        cache_key = ("resets", id(values))
        known = self.by_samples.get(cache_key)
        if known is None:
            known = self.by_samples[cache_key] = (values, _drops(cast(list[float], values)) if None not in values else None)
        return known[1]

    # --- evaluation ------------------------------------------------------------------------

    def eval(self, node, t: float):
        """A list of Samples (instant vector) or a float (scalar), reading what `record` recorded at t."""
        frame = Frame([t], {k: [value] for k, value in self.recorded.get(t, {}).items()})
        result = _compile(node)(self, frame)
        if isinstance(result, tuple):
            return result[0]
        return [Sample(dict(k), value) for k, value in _at(result, 0)]

    # --- rule evaluation ---------------------------------------------------------------

    def record(self, t: float) -> None:
        """Evaluate the recording rules at tick t, in order, as the recording group does."""
        frame = Frame([t])
        self._record(frame, self.recording)
        self.recorded[t] = {k: row[0] for k, row in frame.recorded.items() if row[0] is not None}

    def _record(self, frame: Frame, rules: list[RecordingRule]) -> None:
        """The rules' results at the frame's ticks, into the frame. Over several ticks every rule's name is known
        from the start (at the second tick it would be), so the frame fails wherever some tick of it fails."""
        recorded = frame.recorded
        if len(frame.ticks) > 1:
            self._recorded_names.update(rule.record for rule in rules)
        for rule in rules:
            self._recorded_names.add(rule.record)
            result = compiled(rule.expr)(self, frame)
            if isinstance(result, tuple):
                raise Unsupported("a recording rule yielding a scalar")
            for k, row in result:
                labels = key({**dict(_drop_name(k)), **rule.labels, "__name__": rule.record})
                into = recorded.get(labels)
                if into is None:
                    recorded[labels] = list(row)
                else:  # a later sample of the same labels overwrites, tick by tick
                    for i, value in enumerate(row):
                        if value is not None:
                            into[i] = value

    def needed(self, expr: str) -> set[str]:
        """The recorded names expr reads, directly or through other recording rules."""
        return recorded_closure(expr, self._rules_by_name)

    def _condition(self, rule: AlertingRule, ticks: list[float]) -> Matrix:
        """The rule's expression at the ticks, after the recording rules it reads. Recording rules read no range
        of recorded series (that is Unsupported), so every tick can be evaluated on its own."""
        rules = self._needed.get(rule.expr)
        if rules is None:
            only = self.needed(rule.expr)
            rules = self._needed[rule.expr] = sorted((r for name in only for r in self._rules_by_name.get(name, [])),
                                                     key=lambda r: self._order[id(r)])
        frame = Frame(ticks)
        self._record(frame, rules)
        result = compiled(rule.expr)(self, frame)
        if isinstance(result, tuple):
            raise Unsupported("an alert expression yielding a scalar")
        return result

    def conditions(self, rule: AlertingRule, chunks: Iterable[list[float]]) -> Iterator[tuple[float, Vector]]:
        """The rule's expression tick by tick, as (labels, value) pairs, each chunk of ticks evaluated at once.
        A chunk fails where any of its ticks would; then its ticks are evaluated one by one, so a caller that
        stops early sees what evaluating tick by tick gives (the same values, the same first failure)."""
        for chunk in chunks:
            names = set(self._recorded_names)
            try:
                result = self._condition(rule, chunk)
            except Unsupported:
                if len(chunk) == 1:
                    raise
                self._recorded_names = names
                for t in chunk:
                    yield t, _at(self._condition(rule, [t]), 0)
                continue
            for i, t in enumerate(chunk):
                yield t, _at(result, i)

    def proved_quiet(self, rule: AlertingRule, times: Sequence[float], eval_interval: float) -> bool:
        """True when, for each time t, some evaluation in [t - for, t] returns nothing: then no alert of the rule
        can have been active for `for` at t, so none fires. False proves nothing."""
        windows = []
        for t in times:
            window = []
            tick = t
            while tick >= max(0.0, t - rule.for_seconds) - 1e-9:
                window.append(tick)
                tick -= eval_interval
            windows.append(window)
        names = set(self._recorded_names)
        try:
            # Nothing at t itself is the common proof: those ticks first, then the rest of the other windows.
            ends = self._condition(rule, [window[0] for window in windows])
            unproved = [window[1:] for i, window in enumerate(windows) if not _empty(ends, i)]
            if not unproved:
                return True
            if not all(unproved):  # a window with no other tick to try
                return False
            rest = self._condition(rule, [tick for window in unproved for tick in window])
            start = 0
            for window in unproved:
                if not any(_empty(rest, i) for i in range(start, start + len(window))):
                    return False
                start += len(window)
            return True
        except Unsupported:  # where a tick fails, the answer is what asking tick by tick, in order, gives
            self._recorded_names = names
            return all(any(not _at(self._condition(rule, [tick]), 0) for tick in window) for window in windows)

    def run_alert(self, rule: AlertingRule, ticks: list[float], until_firing: bool = False) -> dict[float, list[AlertState]]:
        """The alerts of one rule after each tick: pending and firing, with their values
        (with until_firing, the ticks stop at the first one where an alert fires)."""
        active: dict[LabelKey, AlertState] = {}
        states: dict[float, list[AlertState]] = {}
        # A sample's labels give the same alert labels at every tick: worked out once per sample.
        alert_of: dict[LabelKey, tuple[LabelKey, dict[str, str], dict[str, str]]] = {}
        for t, result in self.conditions(rule, _chunks(ticks, rule.for_seconds) if until_firing else [ticks]):
            seen = set()
            for sample_key, value in result:
                known = alert_of.get(sample_key)
                if known is None:
                    labels = {**dict(_drop_name(sample_key)), **rule.labels, "alertname": rule.name}
                    known = alert_of[sample_key] = (key(labels), labels, dict(sample_key))
                k, labels, sample_labels = known
                seen.add(k)
                state = active.get(k)
                if state is None:
                    state = active[k] = AlertState(labels, t, value)
                state.value = value
                state.sample_labels = sample_labels
                if not state.firing and t - state.active_at >= rule.for_seconds - 1e-9:
                    state.firing = True
            for k in list(active):
                if k not in seen:
                    del active[k]
            states[t] = [AlertState(a.labels, a.active_at, a.value, a.firing, a.sample_labels)
                         for _, a in sorted(active.items())]
            if until_firing and any(a.firing for a in states[t]):
                break
        return states


def _chunks(ticks: list[float], for_seconds: float) -> Iterator[list[float]]:
    """The ticks of a run that stops once an alert fires, in chunks: first up to one step past `for` (where
    most alerts fire), then each chunk as long as all before it, so at most about half the work is spare."""
    if len(ticks) < 2:
        yield ticks
        return
    step = ticks[1] - ticks[0]
    end = next((i for i, t in enumerate(ticks) if t - ticks[0] > for_seconds + step + 1e-9), len(ticks))
    start = 0
    while start < len(ticks):
        yield ticks[start:end]
        start, end = end, 2 * end


# --- compiled expressions ------------------------------------------------------------------
#
# Each expression is turned once into nested closures `(simulation, frame) -> Matrix | Scalar` that hold
# what the tree says (matchers, ranges, operators) as plain Python values: reading them from the
# parser's nodes at every tick was most of a test plan's time. A closure evaluates all ticks of a frame
# at once, series by series: the labels of a series are worked out once per frame, not once per tick,
# and every value is computed with the same operations, in the same order, as one tick alone would be.

Vector = list  # [(LabelKey, value)] at one tick, a LabelKey sorted by label name as `key` makes it
Matrix = list  # [(LabelKey, [value or None (no sample) per tick of the frame])], in the order a Vector lists them
Scalar = tuple  # (value per tick of the frame)
RawSeries = tuple  # (LabelKey, LabelKey without __name__, samples, resets up to each sample (None: gaps))
Evaluator = Callable[["Simulation", "Frame"], Any]  # a Matrix, or a Scalar


class Frame:
    """The ticks one evaluation covers, and what the recording rules recorded at them."""

    __slots__ = ("ticks", "recorded", "key", "_windows")

    def __init__(self, ticks: list[float], recorded: dict[LabelKey, list[float | None]] | None = None):
        self.ticks = ticks
        self.recorded = recorded if recorded is not None else {}
        self.key = tuple(ticks)
        self._windows: dict[tuple[float, float], list[tuple[int, int, float]]] = {}

    def windows(self, rng: float, interval: float) -> list[tuple[int, int, float]]:
        """(first, last sample index, tick) of a range ending at each tick, shared by every series it selects."""
        found = self._windows.get((rng, interval))
        if found is None:
            found = self._windows[(rng, interval)] = [
                (max(0, math.ceil((t - rng) / interval - 1e-9)), math.floor(t / interval + 1e-9), t) for t in self.ticks]
        return found


def _at(matrix: Matrix, i: int) -> Vector:
    """The vector at the frame's i-th tick."""
    return [(k, row[i]) for k, row in matrix if row[i] is not None]


def _empty(matrix: Matrix, i: int) -> bool:
    """Whether the vector at the frame's i-th tick has no sample."""
    return all(row[i] is None for _, row in matrix)


def _kept(out: Matrix, k: LabelKey, row: list) -> None:
    """Adds the series unless it has no sample at any tick of the frame (no tick's vector lists it)."""
    for value in row:
        if value is not None:
            out.append((k, row))
            return


@lru_cache(maxsize=65536)
def compiled(expr: str) -> Evaluator:
    """The evaluator of an expression's text, kept: rules are evaluated at every tick of many tests."""
    return _compile(_parse(expr))


def _unsupported(what: str) -> Evaluator:
    def fail(sim: Simulation, frame: Frame):
        raise Unsupported(what)
    return fail


def _compile(node) -> Evaluator:
    if isinstance(node, pp.ParenExpr):
        return _compile(node.expr)
    if isinstance(node, pp.NumberLiteral):
        number = float(node.val)
        return lambda sim, frame: (number,) * len(frame.ticks)
    if isinstance(node, pp.VectorSelector):
        return _compile_instant(node)
    if isinstance(node, pp.UnaryExpr):
        return _compile_unary(node)
    if isinstance(node, pp.Call):
        return _compile_call(node)
    if isinstance(node, pp.AggregateExpr):
        return _compile_aggregate(node)
    if isinstance(node, pp.BinaryExpr):
        return _compile_binary(node)
    return _unsupported(f"{type(node).__name__} expressions")


def _compile_unary(node) -> Evaluator:
    inner = _compile(node.expr)

    def unary(sim: Simulation, frame: Frame):
        result = inner(sim, frame)
        if isinstance(result, tuple):
            return tuple(-value for value in result)
        return [(_drop_name(k), [None if value is None else -value for value in row]) for k, row in result]
    return unary


# A selector such as `{job="api"}` (or a `__name__` regex) can read any series, recorded ones too:
# which recording rules it needs is not known from names, so it is not replayed.
NAMELESS = "a selector without a metric name"


def _selector(node) -> tuple[str, tuple[tuple[str, str, str], ...], str | None]:
    """(metric name, matchers, why the selector is not replayed: None when it is)."""
    name, matchers = selector_matchers(node)
    why = "offset / @ modifiers" if node.offset or node.at else None if name else NAMELESS
    return name, tuple(matchers), why


def _compile_instant(node) -> Evaluator:
    name, matchers, why = _selector(node)
    if why is not None:
        return _unsupported(why)

    def instant(sim: Simulation, frame: Frame) -> Matrix:
        out: Matrix = []
        interval = sim.interval
        ticks = frame.ticks
        newest = [(int(math.floor(t / interval + 1e-9)), t - LOOKBACK) for t in ticks]
        for k, _, values, _ in sim._raw(name, matchers):
            row = []
            count = len(values)
            for i, oldest in newest:
                last = None
                while i >= 0 and i * interval > oldest:
                    if i < count and values[i] is not None:
                        last = values[i]
                        break
                    i -= 1
                row.append(last)
            _kept(out, k, row)
        recorded = frame.recorded
        if recorded:
            for k in sorted(recorded):
                labels = dict(k)
                if labels.get("__name__") != name:
                    continue
                if all(label_matches(op, v, labels.get(lbl, "")) for lbl, op, v in matchers):
                    out.append((k, list(recorded[k])))  # a copy: later rules of the frame write into it
        return out
    return instant


def _compile_call(node) -> Evaluator:
    fn = node.func.name
    if fn == "time":
        return lambda sim, frame: tuple(float(t) for t in frame.ticks)
    if fn in ("rate", "increase"):
        arg = node.args[0]
        if not isinstance(arg, pp.MatrixSelector):
            return _unsupported(f"{fn}() of a subquery")
        return _compile_rate(arg, is_rate=(fn == "rate"))
    if fn == "histogram_quantile":
        return _compile_quantile(node)
    if fn == "absent":
        return _compile_absent(node)
    return _unsupported(f"the function {fn}()")


def _compile_rate(arg, is_rate: bool) -> Evaluator:
    """rate() / increase() of a range selector (`_range` and `_extrapolated_rate` in one pass)."""
    rng = arg.range.total_seconds()
    name, matchers, why = _selector(arg.vector_selector)
    if why is not None:
        return _unsupported(why)

    def rate(sim: Simulation, frame: Frame) -> Matrix:
        if name in sim._recorded_names:
            raise Unsupported(f"a range over the recorded series `{name}`")
        interval = sim.interval
        windows = frame.windows(rng, interval)
        rates = sim.by_samples
        out: Matrix = []
        for _, dropped, values, drops in sim._raw(name, matchers):
            cache_key = ("rate", id(values), rng, is_rate, interval, frame.key)
            known = rates.get(cache_key)
            if known is not None:
                _kept(out, dropped, known[1])
                continue
            row: list[float | None] = []
            newest = len(values) - 1
            for first, last, t in windows:
                end = last if last < newest else newest
                if drops is None:  # gaps: only the samples there are
                    points = [(i * interval, value) for i in range(first, end + 1) if (value := values[i]) is not None]
                    if len(points) < 2:
                        row.append(None)
                        continue
                    row.append(_extrapolated_rate(points[0][0], points[-1][0], [v for _, v in points], t - rng, t, rng, is_rate))
                elif end - first < 1:
                    row.append(None)
                else:
                    window = values[first:end + 1]
                    resets = drops[end] != drops[first] or window[0] < 0.0
                    row.append(_extrapolated_rate(first * interval, end * interval, window, t - rng, t, rng, is_rate, resets))
            rates[cache_key] = (values, row)
            _kept(out, dropped, row)
        return out
    return rate


def _compile_quantile(node) -> Evaluator:
    quantile, inner = _compile(node.args[0]), _compile(node.args[1])

    def histogram_quantile(sim: Simulation, frame: Frame) -> Matrix:
        q, matrix = quantile(sim, frame), inner(sim, frame)
        if not isinstance(q, tuple) or isinstance(matrix, tuple):
            raise Unsupported("histogram_quantile with a non-scalar quantile")
        groups: dict[LabelKey, list[tuple[float, list]]] = {}
        for k, row in matrix:
            le = next((v for n, v in k if n == "le"), None)
            if le is None:
                continue
            rest = tuple(pair for pair in k if pair[0] not in ("le", "__name__"))
            groups.setdefault(rest, []).append((_parse_le(le), row))
        out: Matrix = []
        for k, rows in sorted(groups.items(), key=lambda item: item[0]):
            values: list[float | None] = []
            for i, at in enumerate(q):
                buckets = [(bound, value) for bound, row in rows if (value := row[i]) is not None]
                values.append(_bucket_quantile(at, buckets) if buckets else None)
            out.append((k, values))
        return out
    return histogram_quantile


def _compile_absent(node) -> Evaluator:
    arg = node.args[0]
    inner = _compile(arg)
    labels: LabelKey = ()
    if isinstance(arg, pp.VectorSelector):
        _, matchers = selector_matchers(arg)
        labels = key({lbl: v for lbl, op, v in matchers if op == "="})

    def absent(sim: Simulation, frame: Frame) -> Matrix:
        result = inner(sim, frame)
        if isinstance(result, tuple):
            present = [bool(value) for value in result]
        else:
            present = [False] * len(frame.ticks)
            for _, row in result:
                present = [seen or value is not None for seen, value in zip(present, row, strict=True)]
        out: Matrix = []
        _kept(out, labels, [None if seen else 1.0 for seen in present])
        return out
    return absent


_AGGREGATIONS = ("sum", "min", "max", "avg", "count")


def _compile_aggregate(node) -> Evaluator:
    op = str(node.op)
    if op not in _AGGREGATIONS:
        return _unsupported(f"the aggregation {op}")
    inner = _compile(node.expr)
    modifier = node.modifier
    labels_of = frozenset(modifier.labels) if modifier is not None else frozenset()
    without = modifier is not None and str(modifier.type).endswith("Without")

    def group_of(k: LabelKey) -> LabelKey:
        if modifier is None:
            return ()
        if without:
            return tuple(pair for pair in k if pair[0] not in labels_of and pair[0] != "__name__")
        return tuple(pair for pair in k if pair[0] in labels_of)

    def combine(values: list[float]) -> float:
        if op == "sum":
            acc = values[0]
            for v in values[1:]:
                acc += v
        elif op == "min":
            acc = min(values)
        elif op == "max":
            acc = max(values)
        elif op == "count":
            acc = float(len(values))
        else:
            acc = values[0]
            for i, v in enumerate(values[1:], start=2):
                acc += (v - acc) / i
        return acc

    def aggregate(sim: Simulation, frame: Frame) -> Matrix:
        groups: dict[LabelKey, list[list]] = {}
        for k, row in inner(sim, frame):
            groups.setdefault(group_of(k), []).append(row)
        out: Matrix = []
        for g, rows in sorted(groups.items(), key=lambda item: item[0]):
            if len(rows) == 1 and op != "count":  # one value: the sum, min, max and average is that value
                out.append((g, rows[0]))
                continue
            values: list[float | None] = []
            for column in zip(*rows, strict=True):
                present = [value for value in column if value is not None]
                values.append(combine(present) if present else None)
            out.append((g, values))
        return out
    return aggregate


def _compile_binary(node) -> Evaluator:
    op = str(node.op)
    lhs_of, rhs_of = _compile(node.lhs), _compile(node.rhs)
    modifier = node.modifier
    return_bool = bool(modifier and modifier.return_bool)
    sig = _signature(modifier)
    compare = _COMPARE.get(op)
    arith = _ARITH.get(op) or (lambda a, b: _arith(op, a, b))
    card = str(modifier.card).split(".")[-1] if modifier is not None else None
    result_labels = _result_labels(modifier)

    def elements(pairs: Iterable[tuple[float | None, float | None]], keep_left: bool) -> list[float | None]:
        """`a op b` tick by tick (None where a side has no sample): a comparison keeps the sample's value `a`
        (`b` with keep_left False) where it holds, or gives 1 / 0 with bool; arithmetic gives the result."""
        out: list[float | None] = []
        for a, b in pairs:
            if a is None or b is None:
                out.append(None)
            elif compare is None:
                out.append(arith(a, b))
            elif return_bool:
                out.append(1.0 if compare(a, b) else 0.0)
            else:
                out.append((a if keep_left else b) if compare(a, b) else None)
        return out

    def binary(sim: Simulation, frame: Frame):
        lhs, rhs = lhs_of(sim, frame), rhs_of(sim, frame)
        if op in ("and", "unless", "or"):
            if isinstance(lhs, tuple) or isinstance(rhs, tuple):
                raise Unsupported(f"`{op}` with a scalar")
            matched = _presence(rhs, sig)
            out: Matrix = []
            if op == "and":
                for k, row in lhs:
                    if (there := matched.get(sig(k))) is not None:
                        _kept(out, k, [value if seen else None for value, seen in zip(row, there, strict=True)])
                return out
            if op == "unless":
                for k, row in lhs:
                    there = matched.get(sig(k))
                    _kept(out, k, row if there is None else [None if seen else value for value, seen in zip(row, there, strict=True)])
                return out
            left = _presence(lhs, sig)
            out = list(lhs)
            for k, row in rhs:
                there = left.get(sig(k))
                _kept(out, k, row if there is None else [None if seen else value for value, seen in zip(row, there, strict=True)])
            return out
        if isinstance(lhs, tuple) and isinstance(rhs, tuple):
            if compare is not None:
                if not return_bool:
                    raise Unsupported("a scalar comparison without bool")
                return tuple(1.0 if compare(a, b) else 0.0 for a, b in zip(lhs, rhs, strict=True))
            return tuple(arith(a, b) for a, b in zip(lhs, rhs, strict=True))
        keeps = compare is not None and not return_bool  # a filter keeps the sample's labels
        if isinstance(lhs, tuple) or isinstance(rhs, tuple):
            out = []
            if isinstance(rhs, tuple):
                for k, row in lhs:
                    _kept(out, k if keeps else _drop_name(k), elements(zip(row, rhs, strict=True), True))
            else:
                for k, row in rhs:
                    _kept(out, k if keeps else _drop_name(k), elements(zip(lhs, row, strict=True), False))
            return out
        if card is not None and card not in ("OneToOne", "ManyToMany"):
            raise Unsupported("group_left / group_right")
        right = _one_to_one(rhs, sig)
        out = []
        for k, row in lhs:
            other = right.get(sig(k))
            if other is not None:
                _kept(out, k if keeps else result_labels(k), elements(zip(row, other, strict=True), True))
        return out
    return binary


def _presence(matrix: Matrix, sig: Callable[[LabelKey], LabelKey]) -> dict[LabelKey, list[bool]]:
    """For each signature, whether some series of it has a sample, tick by tick."""
    found: dict[LabelKey, list[bool]] = {}
    for k, row in matrix:
        s = sig(k)
        seen = found.get(s)
        found[s] = ([value is not None for value in row] if seen is None
                     else [was or value is not None for was, value in zip(seen, row, strict=True)])
    return found


def _one_to_one(matrix: Matrix, sig: Callable[[LabelKey], LabelKey]) -> dict[LabelKey, list[float | None]]:
    """The right side of a one-to-one match by signature; Unsupported when two of its series share one at a tick."""
    found: dict[LabelKey, list[float | None]] = {}
    for k, row in matrix:
        s = sig(k)
        seen = found.get(s)
        if seen is None:
            found[s] = row
            continue
        if any(a is not None and b is not None for a, b in zip(seen, row, strict=True)):
            raise Unsupported("many-to-one matching")
        found[s] = [b if a is None else a for a, b in zip(seen, row, strict=True)]
    return found


def _parse(expr: str):
    """The expression's tree, from the one parse cache lint and the test plan share."""
    return promql.parse(expr).ast


@lru_cache(maxsize=65536)
def selector_names(expr: str) -> frozenset[str]:
    """Metric names an expression selects."""
    found: set[str] = set()

    def pre(node):
        if isinstance(node, pp.VectorSelector):
            name, _ = selector_matchers(node)
            if name:
                found.add(name)

    pp.walk(_parse(expr), pre, lambda node: None)
    return frozenset(found)


def recorded_closure(expr: str, rules_by_name: Mapping[str, Sequence[RecordingRule]]) -> set[str]:
    """The recorded names expr reads, directly or through other recording rules (cycles end)."""
    names: set[str] = set()
    todo = [expr]
    while todo:
        for name in selector_names(todo.pop()):
            if name not in names and name in rules_by_name:
                names.add(name)
                todo.extend(r.expr for r in rules_by_name[name])
    return names


def _drops(values: Sequence[float]) -> list[int]:
    """How many samples up to each index are below the one before them (counter resets, as `v < last` sees them)."""
    return [0, *itertools.accumulate(map(operator.lt, values[1:], values))]


@lru_cache(maxsize=65536)  # the input series of a large spec set's scenarios
def _series_labels(k: LabelKey) -> tuple[LabelKey, LabelKey, dict[str, str]]:
    """An input series' labels: sorted, without the name, as a dict (which callers only read)."""
    labels = dict(k)
    labels_key = key(labels)
    return labels_key, _drop_name(labels_key), labels


def _drop_name(k: LabelKey) -> LabelKey:
    return tuple(pair for pair in k if pair[0] != "__name__")


def _signature(modifier) -> Callable[[LabelKey], LabelKey]:
    """The labels two samples are matched on (`on`, `ignoring` or all but the name)."""
    matching = modifier.matching if modifier is not None else None
    if matching is None:
        return _drop_name
    names = frozenset(matching.labels)
    if str(matching.type).endswith("Include"):
        return lambda k: tuple(pair for pair in k if pair[0] in names)
    return lambda k: tuple(pair for pair in k if pair[0] not in names and pair[0] != "__name__")


def _result_labels(modifier) -> Callable[[LabelKey], LabelKey]:
    """The labels of a one-to-one operation's result: the left side's without the name, cut by `on` / `ignoring`."""
    matching = modifier.matching if modifier is not None else None
    if matching is None:
        return _drop_name
    names = frozenset(matching.labels)
    if str(matching.type).endswith("Include"):
        return lambda k: tuple(pair for pair in k if pair[0] in names and pair[0] != "__name__")
    return lambda k: tuple(pair for pair in k if pair[0] not in names and pair[0] != "__name__")


def _extrapolated_rate(first_t: float, last_t: float, values: Sequence[float], range_start: float, range_end: float,
                       rng: float, is_rate: bool, resets: bool = True) -> float:
    """promql.extrapolatedRate of Prometheus 2.42 (counters): `values` sampled from first_t to last_t, at least two.
    `resets` False says no value is below the one before it (nor the first below 0): the reset pass adds nothing."""
    first_v, last_v = values[0], values[-1]
    result = last_v - first_v
    if resets:
        last = 0.0
        for v in values:
            if v < last:
                result += last
            last = v
    duration_to_start = first_t - range_start
    duration_to_end = range_end - last_t
    sampled = last_t - first_t
    average = sampled / (len(values) - 1)
    if result > 0 and first_v >= 0:
        to_zero = sampled * (first_v / result)
        if to_zero < duration_to_start:
            duration_to_start = to_zero
    threshold = average * 1.1
    interval = sampled
    interval += duration_to_start if duration_to_start < threshold else average / 2
    interval += duration_to_end if duration_to_end < threshold else average / 2
    factor = interval / sampled
    if is_rate:
        factor /= rng
    return result * factor


def _parse_le(text: str) -> float:
    return math.inf if text in ("+Inf", "Inf", "inf") else float(text)


def _bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """promql.bucketQuantile of Prometheus 2.42."""
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets)
    if not buckets or not math.isinf(buckets[-1][0]):
        return math.nan
    merged: list[list[float]] = []
    for bound, count in buckets:
        if merged and merged[-1][0] == bound:
            merged[-1][1] += count
        else:
            merged.append([bound, count])
    for i in range(1, len(merged)):
        if merged[i][1] < merged[i - 1][1]:
            merged[i][1] = merged[i - 1][1]
    if len(merged) < 2:
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next((i for i in range(len(merged) - 1) if merged[i][1] >= rank), len(merged) - 1)
    if b == len(merged) - 1:
        return merged[-2][0]
    if b == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[b][0], merged[b][1]
    if b > 0:
        start = merged[b - 1][0]
        count -= merged[b - 1][1]
        rank -= merged[b - 1][1]
    return start + (end - start) * (rank / count)


# --- Go's text/template value formatting ------------------------------------------------

def go_format_g(value: float, precision: int) -> str:
    """fmt.Sprintf("%.<p>g", v): like C, trailing zeros removed."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.{precision}g}"


def go_value(value: float) -> str:
    """How text/template prints a float64: fmt %v, shortest digits, %e below 1e-4 and from 1e6 (1e+06)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    _, digits, exp = Decimal(repr(abs(value))).normalize().as_tuple()
    assert isinstance(exp, int)  # finite: infinities and NaN returned above
    sig = "".join(map(str, digits))
    exp10 = len(digits) - 1 + exp
    sign = "-" if value < 0 else ""
    if exp10 < -4 or exp10 >= 6:
        body = sig[0] + ("." + sig[1:] if len(sig) > 1 else "")
        return f"{sign}{body}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    point = exp10 + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{sig}"
    if point >= len(sig):
        return f"{sign}{sig}{'0' * (point - len(sig))}"
    return f"{sign}{sig[:point]}.{sig[point:]}"


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return go_format_g(v, 4)
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return go_format_g(v, 4) + prefix
    v, prefix = _small_prefix(v)
    return go_format_g(v, 4) + prefix


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return go_format_g(v, 4)
    if v == 0:
        return go_format_g(v, 4) + "s"
    if abs(v) >= 1:
        sign = ""
        if v < 0:
            sign, v = "-", -v
        duration = int(v)
        seconds, minutes, hours, days = duration % 60, (duration // 60) % 60, (duration // 3600) % 24, duration // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{go_format_g(v, 4)}s"
    v, prefix = _small_prefix(v)
    return f"{go_format_g(v, 4)}{prefix}s"


def _small_prefix(v: float) -> tuple[float, str]:
    """A value below 1 scaled up by thousands, with its SI prefix (m, u, n, …), as Go's humanize does."""
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return v, prefix


def humanize_percentage(v: float) -> str:
    return go_format_g(v * 100, 4) + "%"


_PRINTF = re.compile(r"%(\.\d+)?[fgde]")
_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_PIPE = re.compile(r'^\$value(?:\s*\|\s*(humanize|humanizePercentage|humanizeDuration|humanize1024|printf\s+"([^"\\]*)"))?$')
_STRING = re.compile(r'^"(?:[^"\\]|\\.)*"$')
_LABEL = re.compile(r"^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$")


def expand_template(text: str, value: float, labels: dict[str, str]) -> str:
    """The annotation Prometheus renders; Unsupported for template code beyond $value / $labels pipes."""
    def action(match: re.Match) -> str:
        body = match.group(1).strip()
        m = _PIPE.match(body)
        if m:
            fn, fmt = m.group(1), m.group(2)
            if fn is None:
                return go_value(value)
            if fn == "humanize":
                return humanize(value)
            if fn == "humanizePercentage":
                return humanize_percentage(value)
            if fn == "humanizeDuration":
                return humanize_duration(value)
            if fn.startswith("printf") and fmt is not None and _PRINTF.fullmatch(fmt):
                return fmt % value if not fmt.endswith("g") else go_format_g(value, int(fmt[2:-1] or "6"))
            raise Unsupported(f"the template action {{{{ {body} }}}}")
        m = _LABEL.match(body)
        if m:
            return labels.get(m.group(1), "<no value>")
        m = _STRING.match(body)
        if m:
            return json.loads(m.group(0))  # a Go string constant prints its text
        raise Unsupported(f"the template action {{{{ {body} }}}}")
    if "{{" not in text:
        return text
    return _ACTION.sub(action, text)
