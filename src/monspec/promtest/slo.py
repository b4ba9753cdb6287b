"""promtool scenarios for every SLO: each burn-rate alert fires just above its threshold, stays quiet
just below, and a short-window recovery silences it; the budget recordings have exact values.

Exact by construction, with no evaluator: the raw counters grow by whole numbers of events
per second that are multiples of every rate window (in seconds), so each rate() is a whole
number, each sum of them exact, and the error ratio is j / 2^p, exactly representable.
Averages of equal dyadic values are exact too, so every window of a constant error ratio
reads exactly that ratio from the first evaluation on, and the budget arithmetic
(`1 - ratio / budget`) is one IEEE operation each, done here in the same order.

Each SLO's scenarios are their own test groups and read only that SLO's series.
"""
from __future__ import annotations

import bisect
import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from monspec import promql
from monspec.model import Model
from monspec.model.catalog import Catalog
from monspec.model.components import metric_component, target_labels
from monspec.model.objective import (
    BUDGET_REMAINING,
    CURRENT_BURN,
    ERROR_BUDGET,
    OBJECTIVE,
    PERIOD_BURN,
    BurnAlert,
    Objective,
    decimal_text,
    percent_text,
    window_text,
)
from monspec.promtest.promsim import expand_template

MARGIN = Decimal("0.01")  # just above / below: 1% past the threshold
STEPS_PER_MARGIN = 400  # the error ratio's resolution: 1/400 of the smallest threshold
MAX_COUNTER = 2.0**53  # counters stay exact integers


class NotCoverable(ValueError):
    """The SLO's tests cannot be planned (a raw query, windows the intervals do not divide…)."""


@dataclass
class Phase:
    """Events per second from `start` (seconds) on: `errors` of every `total`."""

    start: float
    errors: int


@dataclass
class SloScenario:
    name: str
    phases: list[Phase]
    alert_checks: list[tuple[float, str, list[dict]]] = field(default_factory=list)
    expr_checks: list[tuple[float, str, list[tuple[dict[str, str], float]]]] = field(default_factory=list)

    @property
    def end(self) -> float:
        return max([t for t, _, _ in self.alert_checks] + [t for t, _, _ in self.expr_checks])


@dataclass
class Recorded:
    """The base window's recording at each evaluation tick for one input, in tick order, and the
    running sums from the first tick that reads an error on: a long window that starts before any
    error then averages in one lookup, the very sum a tick-by-tick loop makes (0.0 + 0.0 is 0.0)."""

    values: list[float] = field(default_factory=list)
    first: int | None = None  # the first tick whose value is not 0
    sums: list[float] = field(default_factory=list)  # sums[i]: values[first] + … + values[first + i], in order

    def add(self, value: float) -> None:
        if self.first is None and value != 0.0:
            self.first = len(self.values)
        self.values.append(value)
        if self.first is not None:
            self.sums.append((self.sums[-1] if self.sums else 0.0) + value)


@dataclass
class Replay:
    """What a planner works out from numbers alone: the evaluation ticks, each phase list's sample
    indexes and base-window recordings. They depend on the step, the rate windows, the scale and
    the base window, never on names, so every SLO with the same numbers (fifty services at
    99.9 % over 30d with the default windows) shares one."""

    ticks: list[float]
    base_values: dict[tuple, Recorded] = field(default_factory=dict)  # per input phases
    starts: dict[tuple[float, ...], list[int]] = field(default_factory=dict)  # phase starts -> `first_sample` of each


class Planner:
    """Inputs and expected results for one SLO."""

    def __init__(self, objective: Objective, catalog: Catalog, target: dict[str, str], step: float,
                 replays: dict[tuple, Replay] | None = None):
        self.objective = objective
        self.catalog = catalog
        self.eval = self.interval = step  # evaluation and sample interval alike
        self.target = target
        rate_windows = [int(w) for w in objective.rate_windows]
        self.lcm = math.lcm(*rate_windows)
        smallest = min([a.threshold for a in objective.burn_alerts] + [objective.budget])
        self.bits = 1
        while smallest * 2**self.bits * MARGIN < 4:  # at least 4 steps inside the 1% margin
            self.bits += 1
        self.scale = 2**self.bits  # total events per second = lcm * scale; errors = lcm * j
        self.first_tick = math.ceil(self.interval / self.eval) * self.eval  # rates need two samples
        key = (self.eval, self.interval, self.lcm, self.scale, self.first_tick, objective.base_window)
        replay = (replays if replays is not None else {}).setdefault(key, Replay([self.first_tick]))
        self._ticks = replay.ticks  # the evaluation ticks so far, stepped by repeated addition
        self._base_values = replay.base_values
        self._starts = replay.starts
        total = self.series_for(objective.event_selectors()[0], [])
        # What the SLI's recordings carry: the `by` labels of the input series, and the SLO's.
        self.sample_labels = dict(sorted({**{b: total[b] for b in objective.slo.by if b in total},
                                          **objective.labels}.items()))

    # --- numbers ----------------------------------------------------------------------------

    def ratio(self, j: int) -> float:
        return j / self.scale

    def above(self, threshold: Decimal) -> int:
        return min(self.scale, int(threshold * (1 + MARGIN) * self.scale) + 1)

    def below(self, threshold: Decimal) -> int:
        return max(0, math.ceil(threshold * (1 - MARGIN) * self.scale) - 1)

    def tick(self, t: float) -> float:
        return math.ceil(t / self.eval - 1e-9) * self.eval

    # --- scenarios -------------------------------------------------------------------------

    def alert_scenarios(self, alert: BurnAlert) -> list[SloScenario]:
        if alert.threshold * (1 + MARGIN) >= 1:
            raise NotCoverable(f"{alert.rule.name}'s threshold {percent_text(alert.threshold)} leaves no error ratio above it")
        return [self.fires(alert), self.quiet(alert), self.recovers(alert)]

    def fire_time(self, alert: BurnAlert) -> float:
        return self.tick(self.first_tick + alert.for_seconds)

    def expected_alert(self, alert: BurnAlert, value: float) -> dict:
        labels = {**self.sample_labels, **alert.rule.labels}
        annotations = {k: expand_template(v, value, self.sample_labels) for k, v in alert.rule.annotations.items()}
        return {"labels": dict(sorted(labels.items())), "annotations": dict(sorted(annotations.items()))}

    def fires(self, alert: BurnAlert) -> SloScenario:
        j = self.above(alert.threshold)
        at = self.fire_time(alert)
        scenario = SloScenario(f"{alert.rule.name} fires: error ratio {self.ratio(j):.6g} just above "
                               f"{decimal_text(alert.threshold)} on both windows", [Phase(0, j)])
        name = alert.rule.name
        if alert.for_seconds:
            scenario.alert_checks.append((at - self.eval, name, []))
        scenario.alert_checks.append((at, name, [self.expected_alert(alert, self.ratio(j))]))
        return scenario

    def quiet(self, alert: BurnAlert) -> SloScenario:
        j = self.below(alert.threshold)
        at = self.fire_time(alert)
        scenario = SloScenario(f"{alert.rule.name} stays quiet: error ratio {self.ratio(j):.6g} just below "
                               f"{decimal_text(alert.threshold)}", [Phase(0, j)])
        scenario.alert_checks.append((at, alert.rule.name, []))
        return scenario

    def waits(self, alerts: list[BurnAlert]) -> SloScenario:
        """After a clean stretch as long as the longest window, errors start: each alert waits
        for its long window to fill past its threshold, so a changed long window or factor
        moves its firing time. One scenario for all of them, so the clean stretch is paid once."""
        j = min(self.scale, self.above(max(a.threshold for a in alerts) * 4))
        clean = self.tick(max(a.long for a in alerts))
        phases = [Phase(0, 0), Phase(clean + self.interval, j)]
        scenario = SloScenario(f"SLO {self.objective.name}: burn-rate alerts wait for their long windows "
                               f"(error ratio {self.ratio(j):.6g} after a clean {window_text(clean)})", phases)
        for alert in alerts:
            threshold = float(decimal_text(alert.threshold))
            t, active = clean, None
            while active is None:
                t += self.eval
                values = [self.window_value(w, t, phases) for w in (alert.long, alert.short)]
                if all(v is not None and v > threshold for v in values):
                    active = t
            fire = self.tick(active + alert.for_seconds)
            value = self.window_value(alert.long, fire, phases) or 0.0
            scenario.alert_checks += [(fire - self.eval, alert.rule.name, []),
                                      (fire, alert.rule.name, [self.expected_alert(alert, value)])]
        return scenario

    # --- the recordings' exact values, replayed for these inputs -----------------------------

    def window_value(self, window: float, t: float, phases: list[Phase]) -> float | None:
        """The SLI error ratio over `window` at tick t, as Prometheus computes it from these inputs:
        rates of whole numbers over aligned samples (no extrapolation), or the average of the
        base window's recordings (each computed once per input, then summed in tick order)."""
        if t < self.first_tick:
            return None
        if self.objective.from_rates(window):
            return self._rate_value(window, t, phases)
        lo, hi = self.tick_range(t - window, t)
        recorded = self._base_values.setdefault(tuple((p.start, p.errors) for p in phases), Recorded())
        while len(recorded.values) < hi:
            recorded.add(self._rate_value(self.objective.base_window, self._ticks[len(recorded.values)], phases))
        first = recorded.first
        if first is None or lo <= first:  # the ticks before the first error add exactly 0.0
            acc = recorded.sums[hi - 1 - first] if first is not None and hi > first else 0.0
        else:
            acc = 0.0
            for value in recorded.values[lo:hi]:
                acc += value
        return acc / (hi - lo)

    def _rate_value(self, window: float, t: float, phases: list[Phase]) -> float:
        first = max(0, int(round((t - window) / self.interval)))
        last = int(round(t / self.interval))
        errors = self.errors_between(first, last, phases)
        samples = last - first
        unit = self.lcm * self.interval
        bad = errors * unit / window  # whole numbers: the lcm is a multiple of every rate window
        total = samples * self.scale * unit / window
        return bad / total

    def errors_between(self, first: int, last: int, phases: list[Phase]) -> int:
        """The errors per second summed over samples first+1 … last: each phase's rate times the
        number of those samples it covers (a phase runs from its start to the next one's: every
        scenario lists its phases in start order)."""
        starts = self._starts.get(phase_key := tuple(p.start for p in phases))
        if starts is None:  # asked at every tick for the same few phase lists
            starts = self._starts[phase_key] = [self.first_sample(p.start) for p in phases]
        errors = 0
        for i, phase in enumerate(phases):
            end = starts[i + 1] if i + 1 < len(starts) else last + 1
            errors += phase.errors * max(0, min(end, last + 1) - max(starts[i], first + 1))
        return errors

    def first_sample(self, start: float) -> int:
        """The index of the first sample taken at or after `start` seconds."""
        i = max(0, math.ceil(start / self.interval))
        while i > 0 and (i - 1) * self.interval >= start:
            i -= 1
        while i * self.interval < start:
            i += 1
        return i

    def ticks(self, after: float, t: float) -> list[float]:
        """The evaluation ticks from the first one through t that are at or after `after`."""
        lo, hi = self.tick_range(after, t)
        return self._ticks[lo:hi]

    def tick_range(self, after: float, t: float) -> tuple[int, int]:
        """Where `ticks(after, t)` starts and ends in the list of every evaluation tick."""
        while self._ticks[-1] <= t + 1e-9:
            self._ticks.append(self._ticks[-1] + self.eval)
        return bisect.bisect_left(self._ticks, after), bisect.bisect_right(self._ticks, t + 1e-9)

    def recovers(self, alert: BurnAlert) -> SloScenario:
        """Errors well above the threshold until the alert fires, then none: once the short window
        holds no errors the alert is silent, while the long window still reads above the threshold."""
        j = min(self.scale, self.above(alert.threshold * 4))
        threshold = float(alert.threshold)
        start = self.fire_time(alert)
        stop, silent = start, self.tick(start + alert.short)
        for candidate in range(int(start), int(start + alert.long) + 1, int(self.eval)):
            after = self.tick(candidate + alert.short)
            if self.long_ratio(alert, self.ratio(j), candidate, after) > threshold * 1.05:
                stop, silent = float(candidate), after
                break
        name = self.objective.ratio_name
        long_series = self.objective.series(name(alert.long))
        short_series = self.objective.series(name(alert.short))
        labels = {"__name__": "", **self.sample_labels}
        scenario = SloScenario(f"{alert.rule.name} recovers: no errors over its short window silences it",
                               [Phase(0, j), Phase(stop + self.interval, 0)])
        alertname = alert.rule.name
        scenario.alert_checks += [(stop, alertname, [self.expected_alert(alert, self.ratio(j))]), (silent, alertname, [])]
        scenario.expr_checks.append((silent, short_series, [({**labels, "__name__": name(alert.short)}, 0.0)]))
        if self.long_ratio(alert, self.ratio(j), stop, silent) > threshold * 1.05:
            scenario.expr_checks.append((silent, f"{long_series} > bool {decimal_text(alert.threshold)}",
                                         [(dict(self.sample_labels), 1.0)]))
        return scenario

    def long_ratio(self, alert: BurnAlert, ratio: float, stop: float, t: float) -> float:
        """Roughly, the long window's error ratio at t when errors ran at `ratio` until `stop`
        (only to choose `stop`; the test asserts a comparison, never this number)."""
        def share(end: float, window: float) -> float:
            begin = max(0.0, end - window)
            return ratio * max(0.0, min(stop, end) - begin) / (end - begin) if end > begin else 0.0

        if self.objective.from_rates(alert.long):
            return share(t, alert.long)
        base = self.objective.base_window
        ticks = self.ticks(t - alert.long, t)
        return sum(share(x, base) for x in ticks) / len(ticks)

    def budget_scenario(self) -> SloScenario:
        """About half the budget spent, constant: every recording's exact value."""
        objective = self.objective
        budget = float(decimal_text(objective.budget))
        j = max(1, int(objective.budget / 2 * self.scale))
        d = self.ratio(j)
        at = self.tick(self.first_tick + 10 * 60)
        with_target = {"__name__": "", **self.sample_labels}
        only_slo = {"__name__": "", **objective.labels}
        scenario = SloScenario(f"SLO {objective.name}: error budget recordings with error ratio {d:.6g}", [Phase(0, j)])
        for window in objective.windows:
            name = objective.ratio_name(window)
            scenario.expr_checks.append((at, objective.series(name), [({**with_target, "__name__": name}, d)]))
        burn = d / budget
        for name, value, labels in (
            (OBJECTIVE, float(decimal_text(1 - objective.budget)), only_slo),
            (ERROR_BUDGET, budget, only_slo),
            (CURRENT_BURN, burn, with_target),
            (PERIOD_BURN, burn, with_target),
            (BUDGET_REMAINING, 1 - burn, with_target),
        ):
            scenario.expr_checks.append((at, objective.series(name), [({**labels, "__name__": name}, value)]))
        return scenario

    # --- input series ------------------------------------------------------------------------

    def inputs(self, scenario: SloScenario) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        """(labels, [(increment per sample, from time), …]) of every raw counter the SLI reads:
        each phase's increments apply to the samples at or after its start."""
        total, good, errors = self.objective.event_selectors()
        events = errors or good or ""
        step_total = self.lcm * self.scale * self.interval

        def steps(part) -> list[tuple[float, float]]:
            return [(part(phase.errors * self.lcm * self.interval), phase.start) for phase in scenario.phases]

        if self.objective.slo.sli.latency is not None:
            count = self.series_for(total, [])
            name, matchers = _parse(events)
            bucket = {**count, "__name__": name, "le": next(m.value for m in matchers if m.name == "le")}
            out = [(bucket, steps(lambda e: step_total - e)), (count, steps(lambda e: step_total))]
        else:
            bad_part = (lambda e: e) if errors is not None else (lambda e: step_total - e)
            chosen = self.series_for(events, [])
            out = [(chosen, steps(bad_part))]
            total_name, total_matchers = _parse(total)
            if chosen["__name__"] == total_name and all(m.matches(chosen.get(m.name, "")) for m in total_matchers):
                out.append((self.series_for(total, [events]), steps(lambda e: step_total - bad_part(e))))
            else:
                out.append((self.series_for(total, [events]), steps(lambda e: step_total)))
        if max(inc for _, s in out for inc, _ in s) * (scenario.end / self.interval + 1) >= MAX_COUNTER:
            raise NotCoverable("its counters would outgrow exact integers over the test's span")
        return out

    def values(self, steps: list[tuple[float, float]], end: float) -> str:
        """promtool's series notation for a counter from 0 growing by each phase's increment."""
        last = int(round(end / self.interval))
        starts = [max(1, math.ceil(start / self.interval - 1e-9)) for _, start in steps] + [last + 1]
        parts: list[str] = []
        value = 0.0
        for (inc, _), first, after in zip(steps, starts, starts[1:], strict=False):
            count = min(after, last + 1) - first
            if count <= 0:
                continue
            if not parts:
                parts.append(f"0+{_num(inc)}x{count}")
            else:
                parts.append(f"{_num(value + inc)}+{_num(inc)}x{count - 1}")
            value += inc * count
        return " ".join(parts) if parts else f"0+0x{last}"

    def series_for(self, selector: str, avoid: list[str]) -> dict[str, str]:
        """Labels of one series the selector matches (and none of `avoid` does, when possible)."""
        name, matchers = _parse(selector)
        metric = self.catalog.get(name)
        known = metric.labels if metric is not None else {}
        names = sorted(label for label in known if label != "le")
        avoided = [_parse(a) for a in avoid]
        pools = []
        for label in names:
            wanted = [m for m in matchers if m.name == label]
            others = [m for _, ms in avoided for m in ms if m.name == label]
            listed = known[label]
            allowed = sorted(listed) if listed else list(dict.fromkeys([*_spelled_out(wanted + others), "example"]))
            pools.append([v for v in allowed if all(m.matches(v) for m in wanted)])
        fixed = {m.name: m.value for m in matchers if m.op == "=" and m.name not in names}
        fallback = None
        for values in itertools.product(*pools):
            labels = {"__name__": name, **self.target, **fixed, **dict(zip(names, values, strict=True))}
            if fallback is None:
                fallback = labels
            if not any(n == name and all(m.matches(labels.get(m.name, "")) for m in ms) for n, ms in avoided):
                return labels
        if fallback is None or avoid:
            raise NotCoverable(f"no series of `{name}` in the catalog matches `{selector}`"
                               + (f" but not `{avoid[0]}`" if avoid else ""))
        return fallback


def _spelled_out(matchers: list[promql.Matcher]) -> list[str]:
    """Values a label of any value could take to meet (or miss) these matchers: equalities, and the
    plain alternatives of a regex with `.` read as 0 (`(5..|429)` offers 500 and 429)."""
    out = [m.value for m in matchers if m.op == "="]
    for m in matchers:
        if m.op in ("=~", "!~"):
            words = [word.replace(".", "0") for word in re.split(r"[|()]", m.value) if re.fullmatch(r"[\w.:/-]+", word)]
            out += [word for word in words if re.fullmatch(m.value, word)]
    return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _parse(selector: str) -> tuple[str, list[promql.Matcher]]:
    [found] = promql.parse(selector).selectors
    return found.name or "", [m for m in found.matchers if m.name != "__name__"]


def evaluation_step(objective: Objective, alert: BurnAlert | None) -> float:
    """The evaluation (and sample) interval of a scenario: the largest that divides every rate
    window and the alert's windows and `for`, so that every rate() spans whole samples and
    the long ticket windows cost few steps (5m for the workbook's pairs; 1m for a `for: 2m`)."""
    step = 0
    for seconds in objective.rate_windows:
        step = math.gcd(step, int(seconds))
    if alert is not None:
        for seconds in (alert.long, alert.short, alert.for_seconds):
            step = math.gcd(step, int(seconds))
    else:
        step = math.gcd(step, 60)
    return float(step or 1)


@dataclass
class SloTests:
    """One SLO's scenarios, grouped by evaluation step (promtool sets it per file)."""

    files: dict[float, tuple[Planner, list[SloScenario]]] = field(default_factory=dict)
    uncovered: list[str] = field(default_factory=list)


def plan(model: Model, objective: Objective) -> SloTests:
    """Every scenario of one SLO, or why it has none."""
    specs = model.specs
    catalog = model.catalog
    tests = SloTests()
    if objective.slo.sli.raw is not None:
        tests.uncovered.append(f"SLO {objective.name}: its SLI is a raw query, whose inputs the generator cannot choose")
        return tests
    replays = model.memo.setdefault(f"{__name__}.replays", {})
    component = metric_component(specs, _parse(objective.event_selectors()[0])[0])
    target = target_labels(specs, component or next(iter(specs.project.scrape_jobs)))
    try:
        for alert in [None, *objective.burn_alerts]:
            step = evaluation_step(objective, alert)
            if step not in tests.files:
                tests.files[step] = (Planner(objective, catalog, target, step, replays), [])
            planner, scenarios = tests.files[step]
            scenarios += [planner.budget_scenario()] if alert is None else planner.alert_scenarios(alert)
        for step, (planner, scenarios) in tests.files.items():
            alerts = [a for a in objective.burn_alerts if evaluation_step(objective, a) == step]
            if alerts:
                scenarios.append(planner.waits(alerts))
            for scenario in scenarios:
                planner.inputs(scenario)  # checks that the counters stay exact
    except NotCoverable as exc:
        return SloTests({}, [f"SLO {objective.name}: {exc}"])
    return tests
