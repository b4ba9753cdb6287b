"""One SLO compiled: the domain object that owns all of its rule generation (Pyrra's `Objective`).

From an `slos:` entry it decides, once, the windows the burn-rate alerts need, the recording
rules (SLI error ratio per window, objective, error budget, burn rates, budget remaining) and
the alerts, each with its condition as data. rules.yml, the PrometheusRule, the runbook, the
routing tests, the SLO dashboard, the promtool scenarios and `verify` all read this object.

Windows shorter than a day are ratios of rates over the raw counters; a day or longer (and
the SLO window) is the average of the shortest window's recording over that range, as Sloth
records its period window: cheap to evaluate, and it skips gaps without traffic.
All numbers derived from the objective are exact decimals written as PromQL literals.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import promql_parser as pp

from monspec import promql
from monspec.model.conditions import Condition, unparen
from monspec.model.rules import AlertRule, RecordRule, RuleGroup, anchor, camel
from monspec.spec import SpecSet
from monspec.spec.durations import parse_duration
from monspec.spec.models import Project
from monspec.spec.slos import WINDOW_TEMPLATE, BurnWindow, Severity, Slo

RATE_LIMIT = 86400.0  # windows shorter than this are computed from rates
SEVERITY_LABELS = {"page": "critical", "ticket": "warning"}
ERROR_RATIO = "slo:sli_error:ratio_rate{window}"
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
CURRENT_BURN = "slo:current_burn_rate:ratio"
PERIOD_BURN = "slo:period_burn_rate:ratio"
BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"


def window_text(seconds: float) -> str:
    """A window as PromQL writes it, in one unit (30d, not 4w2d): also the suffix of recording names."""
    whole = int(round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    raise ValueError(f"a window of {seconds}s")


def decimal_text(value: Decimal) -> str:
    """A PromQL number literal without exponent: 0.0144, 14.4, 1."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent_text(ratio: Decimal) -> str:
    """A ratio in words as a percentage with up to three significant digits: 2%, 2.14%, 0.1%."""
    value = float(ratio * 100)
    return f"{value:.3g}%" if value < 1000 else f"{value:.0f}%"


def span_text(seconds: float) -> str:
    """A duration in words, to the minute: `2 days 2 hours`, `50 minutes`."""
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words[:2]) or "under a minute"


@dataclass
class BurnAlert:
    """One multi-window burn-rate alert: fires while the error ratio exceeds `threshold` over both windows."""

    severity: str  # page | ticket
    window: BurnWindow
    threshold: Decimal  # factor x error budget
    rule: AlertRule

    @property
    def long(self) -> float:
        return parse_duration(self.window.long)

    @property
    def short(self) -> float:
        return parse_duration(self.window.short)

    @property
    def for_seconds(self) -> float:
        return parse_duration(self.window.for_)


class Objective:
    """One SLO's windows, rules and alerts."""

    def __init__(self, slo: Slo, project: Project):
        self.slo = slo
        self.project = project
        self.name = slo.name
        self.budget: Decimal = slo.budget
        self.window_seconds = parse_duration(slo.window)

    # --- windows -------------------------------------------------------------------------

    @cached_property
    def severities(self) -> list[tuple[str, Severity]]:
        alerting = self.slo.alerting
        return [(name, sev) for name, sev in (("page", alerting.page), ("ticket", alerting.ticket)) if not sev.disable]

    @cached_property
    def windows(self) -> list[float]:
        """Every window an alert reads, the base (shortest) window and the SLO window, ascending."""
        found = {parse_duration(w) for _, sev in self.severities for pair in sev.windows for w in (pair.long, pair.short)}
        found.add(self.window_seconds)
        return sorted(found)

    @cached_property
    def base_window(self) -> float:
        return min(w for w in self.windows if w < RATE_LIMIT) if any(w < RATE_LIMIT for w in self.windows) else self.windows[0]

    def from_rates(self, window: float) -> bool:
        return window < RATE_LIMIT or window == self.base_window

    @property
    def rate_windows(self) -> list[float]:
        return [w for w in self.windows if self.from_rates(w)]

    # --- expressions -----------------------------------------------------------------------

    @property
    def selector_labels(self) -> dict[str, str]:
        return {"slo": self.name}

    def series(self, name: str) -> str:
        return f'{name}{{slo="{_escape(self.name)}"}}'

    def ratio_name(self, window: float) -> str:
        return ERROR_RATIO.format(window=window_text(window))

    def error_ratio_expr(self, window: float) -> str:
        if not self.from_rates(window):
            base = self.series(self.ratio_name(self.base_window))
            w = window_text(window)
            return f"sum_over_time({base}[{w}])\n/\ncount_over_time({base}[{w}])"
        w = window_text(window)
        sli = self.slo.sli
        if sli.raw is not None:
            return WINDOW_TEMPLATE.sub(w, sli.raw.error_ratio.strip())
        total, good, errors = self.event_selectors()
        agg = f"sum by ({', '.join(self.slo.by)}) " if self.slo.by else "sum "
        total_rate = f"{agg}(rate({total}[{w}]))"
        if errors is not None:
            bad = f"(\n  {agg}(rate({errors}[{w}]))\n  or\n  0 * {total_rate}\n)"
        else:
            bad = f"(\n  {total_rate}\n  -\n  (\n    {agg}(rate({good}[{w}]))\n    or\n    0 * {total_rate}\n  )\n)"
        return f"{bad}\n/\n({total_rate} > 0)"

    def event_selectors(self) -> tuple[str, str | None, str | None]:
        """(total, good, errors) selectors of a ratio or latency SLI."""
        sli = self.slo.sli
        if sli.ratio is not None:
            return sli.ratio.total.strip(), _opt(sli.ratio.good), _opt(sli.ratio.errors)
        latency = sli.latency
        assert latency is not None, "a raw SLI has no event selectors"
        name, matchers = histogram_selector(latency.histogram)
        inner = [f'{m.name}{m.op}"{_escape(m.value)}"' for m in matchers]
        le = 'le="' + le_text(latency.le) + '"'
        good = f"{name}_bucket{{{', '.join([*inner, le])}}}"
        total = f"{name}_count{{{', '.join(inner)}}}" if inner else f"{name}_count"
        return total, good, None

    # --- rules -----------------------------------------------------------------------------

    @cached_property
    def labels(self) -> dict[str, str]:
        return dict(sorted({**self.slo.labels, **self.selector_labels}.items()))

    @cached_property
    def recording_rules(self) -> list[RecordRule]:
        budget = decimal_text(self.budget)
        objective = decimal_text(1 - self.budget)
        rules = [RecordRule(self.ratio_name(w), self.error_ratio_expr(w), self.labels, self.slo) for w in self.rate_windows]
        rules += [RecordRule(self.ratio_name(w), self.error_ratio_expr(w), self.labels, self.slo)
                  for w in self.windows if not self.from_rates(w)]
        rules += [
            RecordRule(OBJECTIVE, f"vector({objective})", self.labels, self.slo),
            RecordRule(ERROR_BUDGET, f"vector({budget})", self.labels, self.slo),
            RecordRule(CURRENT_BURN, f"{self.series(self.ratio_name(self.base_window))} / {budget}", self.labels, self.slo),
            RecordRule(PERIOD_BURN, f"{self.series(self.ratio_name(self.window_seconds))} / {budget}", self.labels, self.slo),
            RecordRule(BUDGET_REMAINING, f"1 - {self.series(PERIOD_BURN)}", self.labels, self.slo),
        ]
        return rules

    @cached_property
    def burn_alerts(self) -> list[BurnAlert]:
        out = []
        for severity, sev in self.severities:
            for pair in sev.windows:
                threshold = Decimal(str(pair.factor)) * self.budget
                out.append(BurnAlert(severity, pair, threshold, self._alert(severity, sev, pair, threshold)))
        return out

    @property
    def alert_name_prefix(self) -> str:
        return self.slo.alerting.name or camel(self.name)

    def alert_name(self, pair: BurnWindow) -> str:
        return pair.name or f"{self.alert_name_prefix}BurnRate{window_text(parse_duration(pair.long))}"

    def condition(self, pair: BurnWindow, threshold: Decimal) -> str:
        value = decimal_text(threshold)
        long, short = (self.series(self.ratio_name(parse_duration(w))) for w in (pair.long, pair.short))
        return f"{long} > {value}\nand\n{short} > {value}"

    def _alert(self, severity: str, sev: Severity, pair: BurnWindow, threshold: Decimal) -> AlertRule:
        slo, project = self.slo, self.project
        name = self.alert_name(pair)
        long, short = parse_duration(pair.long), parse_duration(pair.short)
        factor = decimal_text(Decimal(str(pair.factor)))
        spent = Decimal(str(pair.factor)) * Decimal(int(long)) / Decimal(int(self.window_seconds))
        summary = (f"{slo.display_title}: error budget burning {factor}x too fast ({window_text(long)} and "
                   f"{window_text(short)} windows); at this rate {percent_text(spent)} of the {slo.window} budget "
                   f"is spent in {span_text(long)} and all of it in {span_text(self.window_seconds / pair.factor)}")
        description = (f"The error ratio of {slo.display_title} is {{{{ $value | humanizePercentage }}}} over the last "
                       f"{window_text(long)} and above {percent_text(threshold)} over the last {window_text(short)}; "
                       f"the objective {decimal_text(slo.objective)}% over {slo.window} allows "
                       f"{percent_text(self.budget)}. {slo.description.strip()}")
        labels = {**project.labels, **slo.labels, "slo": self.name, "slo_severity": severity,
                  "severity": SEVERITY_LABELS[severity], **({"page": "true"} if severity == "page" else {})}
        if slo.owner:
            labels["owner"] = slo.owner
        labels.update(slo.alerting.labels)
        labels.update(sev.labels)
        annotations = {"summary": summary, "description": description,
                       "runbook_url": f"{project.runbook_base_url}#{anchor(name)}",
                       **slo.alerting.annotations, **sev.annotations}
        steps = list(slo.steps) or [
            "Open the SLO dashboard: which windows burn, and since when",
            "Break the failing events down by label (instance, operation, outcome) to find where they come from",
            "Check recent deploys, configuration changes and dependencies for the start of the burn",
        ]
        impact = (f"{percent_text(spent)} of the {slo.window} error budget is spent in {span_text(long)} at this rate; "
                  f"once it is gone the objective of {decimal_text(slo.objective)}% is missed.")
        return AlertRule(
            name=name, expr=self.condition(pair, threshold), for_=pair.for_ if parse_duration(pair.for_) else None,
            keep_firing_for=None, labels=dict(sorted(labels.items())), annotations=annotations, entity=slo,
            origin="slo", severity=labels["severity"], steps=steps, description=description, impact=impact,
            conditions=tuple(Condition(unparen(pp.parse(self.series(self.ratio_name(w)))), ">", float(decimal_text(threshold)))
                             for w in (long, short)))

    @property
    def group(self) -> RuleGroup:
        return RuleGroup(f"{self.project.name}.slo.{self.name}", self.project.evaluation_interval,
                         [*self.recording_rules, *(a.rule for a in self.burn_alerts)], origin="slo")


def objectives(specs: SpecSet) -> list[Objective]:
    return [Objective(slo, specs.project) for slo in specs.slos.values()]


def histogram_selector(text: str) -> tuple[str, list[promql.Matcher]]:
    """(name, matchers) of `name` or `name{...}`; the name may not carry a `_bucket` suffix."""
    [selector] = promql.parse(text.strip()).selectors
    if selector.name is None:
        raise ValueError(f"no metric name in {text!r}")
    return selector.name, list(selector.matchers)


def le_text(bound: float) -> str:
    """A bucket bound as the `le` label the Python and Go clients write for it (0.001, 1.0 → "1.0")."""
    return repr(float(bound))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _opt(text: str | None) -> str | None:
    return text.strip() if text is not None else None
