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

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import promql_parser as pp

from monspec.promql import label_matches

LOOKBACK = 300.0
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
ARITHMETIC = {"+", "-", "*", "/", "%", "^"}

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


def _cmp(op: str, a: float, b: float) -> bool:
    return {"==": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]


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

    def __post_init__(self) -> None:
        # Indexes, so a spec set with many rules costs linear time, not rules x rules.
        self._rules_by_name: dict[str, list[RecordingRule]] = {}
        for rule in self.recording:
            self._rules_by_name.setdefault(rule.record, []).append(rule)
        self._recorded_names: set[str] = set()
        self._order = {id(rule): i for i, rule in enumerate(self.recording)}
        self._raw_cache: dict = {}

    # --- series access -------------------------------------------------------------------

    def _raw(self, name, matchers) -> list[tuple[dict[str, str], list[float | None]]]:
        """Input series a selector matches; the inputs never change, so each answer is kept."""
        cache_key = (name, tuple(matchers))
        cached = self._raw_cache.get(cache_key)
        if cached is None:
            cached = self._raw_cache[cache_key] = self._raw_uncached(name, matchers)
        return cached

    def _raw_uncached(self, name, matchers) -> list[tuple[dict[str, str], list[float | None]]]:
        out = []
        for k, values in self.inputs.items():
            labels = dict(k)
            if name is not None and labels.get("__name__") != name:
                continue
            if all(label_matches(op, v, labels.get(lbl, "")) for lbl, op, v in matchers):
                out.append((labels, values))
        return sorted(out, key=lambda item: key(item[0]))

    def _instant(self, node, t: float) -> list[Sample]:
        name, matchers = selector_matchers(node)
        if node.offset or node.at:
            raise Unsupported("offset / @ modifiers")
        out = []
        for labels, values in self._raw(name, matchers):
            last = None
            i = int(math.floor(t / self.interval + 1e-9))
            while i >= 0 and i * self.interval > t - LOOKBACK:
                if i < len(values) and values[i] is not None:
                    last = values[i]
                    break
                i -= 1
            if last is not None:
                out.append(Sample(labels, last))
        for k, value in sorted(self.recorded.get(t, {}).items()):
            labels = dict(k)
            if name is not None and labels.get("__name__") != name:
                continue
            if all(label_matches(op, v, labels.get(lbl, "")) for lbl, op, v in matchers):
                out.append(Sample(labels, value))
        return out

    def _range(self, node, t: float) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        vs = node.vector_selector
        name, matchers = selector_matchers(vs)
        if vs.offset or vs.at:
            raise Unsupported("offset / @ modifiers")
        if name is not None and name in self._recorded_names:
            raise Unsupported(f"a range over the recorded series `{name}`")
        rng = node.range.total_seconds()
        out = []
        first = max(0, math.ceil((t - rng) / self.interval - 1e-9))
        last = math.floor(t / self.interval + 1e-9)
        for labels, values in self._raw(name, matchers):
            points = [(i * self.interval, value) for i in range(first, min(last, len(values) - 1) + 1)
                      if (value := values[i]) is not None]
            out.append((labels, points))
        return out

    # --- evaluation ------------------------------------------------------------------------

    def eval(self, node, t: float):
        """A list of Samples (instant vector) or a float (scalar)."""
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr, t)
        if isinstance(node, pp.NumberLiteral):
            return float(node.val)
        if isinstance(node, pp.VectorSelector):
            return self._instant(node, t)
        if isinstance(node, pp.UnaryExpr):
            inner = self.eval(node.expr, t)
            if isinstance(inner, float):
                return -inner
            return [Sample(_drop_name(s.labels), -s.value) for s in inner]
        if isinstance(node, pp.Call):
            return self._call(node, t)
        if isinstance(node, pp.AggregateExpr):
            return self._aggregate(node, t)
        if isinstance(node, pp.BinaryExpr):
            return self._binary(node, t)
        raise Unsupported(f"{type(node).__name__} expressions")

    def _call(self, node, t: float):
        fn = node.func.name
        if fn == "time":
            return float(t)
        if fn in ("rate", "increase"):
            arg = node.args[0]
            if not isinstance(arg, pp.MatrixSelector):
                raise Unsupported(f"{fn}() of a subquery")
            rng = arg.range.total_seconds()
            out = []
            for labels, points in self._range(arg, t):
                value = _extrapolated_rate(points, t - rng, t, rng, is_rate=(fn == "rate"))
                if value is not None:
                    out.append(Sample(_drop_name(labels), value))
            return out
        if fn == "histogram_quantile":
            q = self.eval(node.args[0], t)
            vector = self.eval(node.args[1], t)
            if not isinstance(q, float) or isinstance(vector, float):
                raise Unsupported("histogram_quantile with a non-scalar quantile")
            groups: dict[LabelKey, list[tuple[float, float]]] = {}
            for s in vector:
                if "le" not in s.labels:
                    continue
                rest = key({k: v for k, v in s.labels.items() if k not in ("le", "__name__")})
                groups.setdefault(rest, []).append((_parse_le(s.labels["le"]), s.value))
            return [Sample(dict(k), _bucket_quantile(q, buckets)) for k, buckets in sorted(groups.items())]
        if fn == "absent":
            inner = self.eval(node.args[0], t)
            if inner:
                return []
            labels = {}
            if isinstance(node.args[0], pp.VectorSelector):
                name, matchers = selector_matchers(node.args[0])
                labels = {lbl: v for lbl, op, v in matchers if op == "="}
            return [Sample(labels, 1.0)]
        raise Unsupported(f"the function {fn}()")

    def _aggregate(self, node, t: float):
        op = str(node.op)
        if op not in ("sum", "min", "max", "avg", "count"):
            raise Unsupported(f"the aggregation {op}")
        vector = self.eval(node.expr, t)
        modifier = node.modifier
        labels_of = node.modifier.labels if modifier is not None else []
        without = modifier is not None and str(modifier.type).endswith("Without")
        groups: dict[LabelKey, list[float]] = {}
        for s in vector:
            if modifier is None:
                g = {}
            elif without:
                g = {k: v for k, v in s.labels.items() if k not in labels_of and k != "__name__"}
            else:
                g = {k: v for k, v in s.labels.items() if k in labels_of}
            groups.setdefault(key(g), []).append(s.value)
        out = []
        for k, values in sorted(groups.items()):
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
            out.append(Sample(dict(k), acc))
        return out

    def _binary(self, node, t: float):
        op = str(node.op)
        lhs, rhs = self.eval(node.lhs, t), self.eval(node.rhs, t)
        modifier = node.modifier
        return_bool = bool(modifier and modifier.return_bool)
        if op in ("and", "unless", "or"):
            if isinstance(lhs, float) or isinstance(rhs, float):
                raise Unsupported(f"`{op}` with a scalar")
            sig = _signature(modifier)
            matched = {sig(s.labels) for s in rhs}
            if op == "and":
                return [s for s in lhs if sig(s.labels) in matched]
            if op == "unless":
                return [s for s in lhs if sig(s.labels) not in matched]
            left = {sig(s.labels) for s in lhs}
            return lhs + [s for s in rhs if sig(s.labels) not in left]
        if isinstance(lhs, float) and isinstance(rhs, float):
            if op in COMPARISONS:
                if not return_bool:
                    raise Unsupported("a scalar comparison without bool")
                return 1.0 if _cmp(op, lhs, rhs) else 0.0
            return _arith(op, lhs, rhs)
        if isinstance(lhs, float) or isinstance(rhs, float):
            vector, scalar, vector_left = (rhs, lhs, False) if isinstance(lhs, float) else (lhs, rhs, True)
            out = []
            for s in vector:
                a, b = (s.value, scalar) if vector_left else (scalar, s.value)
                if op in COMPARISONS:
                    hit = _cmp(op, a, b)
                    if return_bool:
                        out.append(Sample(_drop_name(s.labels), 1.0 if hit else 0.0))
                    elif hit:
                        out.append(Sample(s.labels, s.value))
                else:
                    out.append(Sample(_drop_name(s.labels), _arith(op, a, b)))
            return out
        if modifier is not None and str(modifier.card).split(".")[-1] not in ("OneToOne", "ManyToMany"):
            raise Unsupported("group_left / group_right")
        sig = _signature(modifier)
        right: dict[LabelKey, Sample] = {}
        for s in rhs:
            k = sig(s.labels)
            if k in right:
                raise Unsupported("many-to-one matching")
            right[k] = s
        out = []
        for s in lhs:
            other = right.get(sig(s.labels))
            if other is None:
                continue
            if op in COMPARISONS:
                hit = _cmp(op, s.value, other.value)
                if return_bool:
                    out.append(Sample(_result_labels(s.labels, modifier), 1.0 if hit else 0.0))
                elif hit:
                    out.append(Sample(s.labels, s.value))
            else:
                out.append(Sample(_result_labels(s.labels, modifier), _arith(op, s.value, other.value)))
        return out

    # --- rule evaluation ---------------------------------------------------------------

    def record(self, t: float, only: set[str] | None = None) -> None:
        """Evaluate the recording rules at tick t, in order, as the recording group does
        (only those recording a name in `only`, when given: the others cannot change the result)."""
        self.recorded[t] = {}
        if only is None:
            rules = self.recording
        else:  # the group's order: a rule may read what an earlier one recorded at this tick
            rules = sorted((r for name in only for r in self._rules_by_name.get(name, [])), key=lambda r: self._order[id(r)])
        for rule in rules:
            self._recorded_names.add(rule.record)
            result = self.eval(_parse(rule.expr), t)
            if isinstance(result, float):
                raise Unsupported("a recording rule yielding a scalar")
            for s in result:
                labels = {**{k: v for k, v in s.labels.items() if k != "__name__"}, **rule.labels, "__name__": rule.record}
                self.recorded[t][key(labels)] = s.value

    def needed(self, expr: str) -> set[str]:
        """The recorded names expr reads, directly or through other recording rules."""
        return recorded_closure(expr, self._rules_by_name)

    def condition(self, rule: AlertingRule, t: float) -> list[Sample]:
        """The rule's expression at tick t. Recording rules read no range of recorded series
        (that is Unsupported), so every tick can be evaluated on its own."""
        if t not in self.recorded:
            self.record(t, self.needed(rule.expr))
        result = self.eval(_parse(rule.expr), t)
        if isinstance(result, float):
            raise Unsupported("an alert expression yielding a scalar")
        return result

    def proved_quiet(self, rule: AlertingRule, t: float, eval_interval: float) -> bool:
        """True when some evaluation in [t - for, t] returns nothing: then no alert of the rule
        can have been active for `for` at t, so none fires. False proves nothing."""
        tick = t
        while tick >= max(0.0, t - rule.for_seconds) - 1e-9:
            if not self.condition(rule, tick):
                return True
            tick -= eval_interval
        return False

    def run_alert(self, rule: AlertingRule, ticks: list[float], until_firing: bool = False) -> dict[float, list[AlertState]]:
        """The alerts of one rule after each tick: pending and firing, with their values
        (with until_firing, the ticks stop at the first one where an alert fires)."""
        active: dict[LabelKey, AlertState] = {}
        states: dict[float, list[AlertState]] = {}
        for t in ticks:
            result = self.condition(rule, t)
            seen = set()
            for s in result:
                labels = {**{k: v for k, v in s.labels.items() if k != "__name__"}, **rule.labels, "alertname": rule.name}
                k = key(labels)
                seen.add(k)
                state = active.get(k)
                if state is None:
                    state = active[k] = AlertState(labels, t, s.value)
                state.value = s.value
                state.sample_labels = dict(s.labels)
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


@lru_cache(maxsize=1024)
def _parse(expr: str):
    return pp.parse(expr)


@lru_cache(maxsize=1024)
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


def _drop_name(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != "__name__"}


def _signature(modifier):
    matching = modifier.matching if modifier is not None else None
    if matching is None:
        return lambda labels: key(_drop_name(labels))
    names = set(matching.labels)
    if str(matching.type).endswith("Include"):
        return lambda labels: key({k: v for k, v in labels.items() if k in names})
    return lambda labels: key({k: v for k, v in labels.items() if k not in names and k != "__name__"})


def _result_labels(labels: dict[str, str], modifier) -> dict[str, str]:
    out = _drop_name(labels)
    matching = modifier.matching if modifier is not None else None
    if matching is not None and str(matching.type).endswith("Include"):
        out = {k: v for k, v in out.items() if k in set(matching.labels)}
    elif matching is not None:
        out = {k: v for k, v in out.items() if k not in set(matching.labels)}
    return out


def _extrapolated_rate(points, range_start: float, range_end: float, rng: float, is_rate: bool) -> float | None:
    """promql.extrapolatedRate of Prometheus 2.42 (counters)."""
    if len(points) < 2:
        return None
    first_t, first_v = points[0]
    last_t, last_v = points[-1]
    result = last_v - first_v
    last = 0.0
    for _, v in points:
        if v < last:
            result += last
        last = v
    duration_to_start = first_t - range_start
    duration_to_end = range_end - last_t
    sampled = last_t - first_t
    average = sampled / (len(points) - 1)
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
