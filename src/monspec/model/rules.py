"""The rules a spec set produces, before any file format: recording rules, the hand-written
alerts, the alerts derived from KPI thresholds, and the absence alert.

Every renderer (rules.yml, the PrometheusRule, promtool tests, runbook docs, routing
tests) reads this one list, so an alert's name, expression and labels are decided once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from monspec.model.components import component_of, scoped, up_selector
from monspec.model.conditions import Condition, parse_conditions, threshold_conditions
from monspec.promql import escape_label_value, needs_parens
from monspec.spec import SpecSet
from monspec.spec.models import Kpi
from monspec.spec.thresholds import Threshold

VALUE_FORMAT = {
    "ratio": "humanizePercentage",
    "percent": "humanize",
    "seconds": "humanizeDuration",
    "bytes": "humanize1024",
}


def camel(key: str) -> str:
    """The guide's snake_case key as an alert name: cache_hit_rate_critical -> CacheHitRateCritical."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-\s]+", key) if part)


def anchor(alert_name: str) -> str:
    """The heading anchor of an alert's section in generated/docs/alerts.md."""
    return alert_name.lower()


@dataclass
class RecordRule:
    record: str
    expr: str
    labels: dict[str, str]
    entity: Any


@dataclass
class AlertRule:
    name: str
    expr: str
    for_: str | None
    keep_firing_for: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    entity: Any  # the Alert or Kpi it came from (project for the absence alert)
    origin: str  # "alert" | "kpi" | "absence"
    severity: str
    kpi: Kpi | None = None
    level: str | None = None
    threshold: Threshold | None = None
    steps: list[str] = field(default_factory=list)
    description: str = ""
    impact: str | None = None
    conditions: tuple[Condition, ...] = ()  # the comparisons the expression is made of; () when it is anything else
    absent: bool = False  # the conditions are wrapped in absent(...)


@dataclass
class RuleGroup:
    name: str
    interval: str | None
    rules: list[Any]
    limit: int | None = None
    origin: str = "project"  # "project" | "imported"


def kpi_condition(kpi: Kpi, threshold: Threshold) -> str:
    """`<kpi expr> <op> <value>`, parenthesised when the KPI is itself an operation."""
    expr = kpi.expr.strip()
    if needs_parens(expr):
        expr = f"({expr})"
    return f"{expr} {threshold.promql()}"


def recording_rules(specs: SpecSet) -> list[RecordRule]:
    return [RecordRule(r.record, scoped(specs, r.expr.strip()), dict(sorted(r.labels.items())), r) for r in specs.recording_rules]


def _placement(specs: SpecSet, entity, expr: str) -> dict[str, str]:
    """The `component` label, on projects with several components, so routing and inhibition can tell them apart."""
    if len(specs.project.scrape_jobs) < 2:
        return {}
    component = component_of(specs, entity, expr)
    return {"component": component} if component else {}


def _page(pages: bool) -> dict[str, str]:
    """`page: "true"` on the alerts that wake someone; routing sends those to the pager."""
    return {"page": "true"} if pages else {}


def _sentence(text: str) -> str:
    """The text as a sentence that another may follow: one final period, never two."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def alert_rules(specs: SpecSet) -> list[AlertRule]:
    """Hand-written alerts in spec order, then KPI-derived ones, then the absence alert."""
    project = specs.project
    base_labels = dict(project.labels)
    rules: list[AlertRule] = []
    covered: set[tuple[str, str]] = set()
    for key, alert in specs.alerts.items():
        name = camel(key)
        kpi = specs.kpis.get(alert.kpi) if alert.kpi else None
        threshold = getattr(kpi, alert.level) if kpi is not None and alert.level else None
        if alert.kpi and alert.level:
            covered.add((alert.kpi, alert.level))
        if kpi is not None and threshold is not None:
            expr = scoped(specs, kpi_condition(kpi, threshold))
            conditions, absent = threshold_conditions(scoped(specs, kpi.expr), threshold.op, threshold.value), False
        else:
            expr = scoped(specs, (alert.expr or "").strip())
            conditions, absent = parse_conditions(expr)
        pages = alert.page if alert.page is not None else alert.severity == "critical"
        labels = {**base_labels, **_placement(specs, alert, expr), **alert.labels, "severity": alert.severity, **_page(pages)}
        if kpi is not None:
            labels["kpi"] = kpi.name
        annotations = {
            "summary": alert.summary,
            "description": alert.description,
            "runbook_url": alert.runbook or f"{project.runbook_base_url}#{anchor(name)}",
            **alert.annotations,
        }
        rules.append(AlertRule(
            name=name, expr=expr, for_=alert.for_ or (kpi.for_ if kpi is not None else None),
            keep_firing_for=alert.keep_firing_for, labels=dict(sorted(labels.items())),
            annotations=annotations, entity=alert, origin="alert", severity=alert.severity, kpi=kpi,
            level=alert.level, threshold=threshold, steps=list(alert.steps), description=alert.description,
            impact=alert.impact, conditions=conditions, absent=absent))
    for kpi in specs.kpis.values():
        for level in ("critical", "warning"):
            threshold = getattr(kpi, level)
            if not isinstance(threshold, Threshold) or (kpi.name, level) in covered:
                continue
            name = camel(kpi.name) + level.capitalize()
            fmt = VALUE_FORMAT.get(kpi.unit, "humanize")
            summary = f"{literal(kpi.display_title)} {level}: {{{{ $value | {fmt} }}}}"
            description = (f"{_sentence(kpi.description)} The {level} threshold is {threshold} "
                           f"({kpi.expr} {threshold.promql()}), held for {kpi.for_}.")
            condition = kpi_condition(kpi, threshold)
            labels = {**base_labels, **_placement(specs, kpi, kpi.expr), "severity": level, "kpi": kpi.name,
                      **_page(level == "critical" and kpi.page)}
            rules.append(AlertRule(
                name=name, expr=scoped(specs, condition), for_=kpi.for_, keep_firing_for=None,
                labels=dict(sorted(labels.items())),
                annotations={"summary": summary, "description": literal(description),
                             "runbook_url": f"{project.runbook_base_url}#{anchor(name)}"},
                entity=kpi, origin="kpi", severity=level, kpi=kpi, level=level, threshold=threshold,
                description=description, conditions=threshold_conditions(scoped(specs, kpi.expr), threshold.op, threshold.value)))
    if project.absence_alert:
        rules.extend(absence_rules(specs))
    return rules


def literal(text: str) -> str:
    """Spec text placed into an annotation, which Prometheus renders as a Go template: a `{{` in it is
    printed as written (by the action `{{ "{{" }}`) instead of starting template code."""
    return text.replace("{{", '{{ "{{" }}')


def absence_rules(specs: SpecSet) -> list[AlertRule]:
    """Per component, two alerts on its scrape job's `up`: <Name>TargetDown for each target that
    fails its scrape (a warning: one dead exporter among several is not silence), and
    <Name>TargetMissing when no target is up (it pages: every other alert there is blind)."""
    project = specs.project
    several = len(project.scrape_jobs) > 1
    rules = []
    for component, comp in project.scrape_jobs.items():
        prefix = camel(project.name) + (camel(component) if several else "")
        selector = ", ".join(f'{k}="{escape_label_value(v)}"' for k, v in sorted(up_selector(specs, component).items()))
        up = f"up{{{selector}}}"
        extra = {"component": component} if several else {}
        # spec text reaches a Go-templated annotation: literal() keeps a `{{` in it as written
        title, job = literal(comp.title or project.title), literal(comp.job)
        whom = "this component" if several else "this service"
        rules.append(_scrape_rule(
            specs, prefix + "TargetDown", f"{up} == 0", "warning", extra,
            f"{title}: target {{{{ $labels.instance }}}} of {job} is down",
            f"A target of the scrape job `{job}` has failed its scrapes for {project.absence_for}: "
            "its alerts cannot fire and its panels show stale values until it is back.",
            ["Check that the process on the target is running and serves /metrics",
             "Check the target's last scrape error on Prometheus's /targets page"]))
        rules.append(_scrape_rule(
            specs, prefix + "TargetMissing", f"absent({up} == 1)", "critical", extra,
            f"{title}: no {job} target is up",
            f"No target of the scrape job `{job}` has been up for {project.absence_for}. "
            f"Every other alert on {whom} is blind until it is back.",
            ["Check that the service is running and serves /metrics",
             "Check Prometheus service discovery and the target's last scrape error on /targets"]))
    return rules


def _scrape_rule(specs: SpecSet, name: str, expr: str, severity: str, extra: dict[str, str], summary: str,
                 description: str, steps: list[str]) -> AlertRule:
    """An alert on a scrape job itself (`up`), held for the project's `absence_for`; critical pages."""
    project = specs.project
    labels = {**project.labels, **extra, "severity": severity, **_page(severity == "critical")}
    conditions, absent = parse_conditions(expr)
    return AlertRule(
        name=name, expr=expr, conditions=conditions, absent=absent, for_=project.absence_for, keep_firing_for=None,
        labels=dict(sorted(labels.items())),
        annotations={"summary": summary, "description": description,
                     "runbook_url": f"{project.runbook_base_url}#{anchor(name)}"},
        entity=project, origin="absence", severity=severity, description=description, steps=steps)


def imported_groups(specs: SpecSet) -> list[RuleGroup]:
    """`rule_groups:` (from `monspec import`) as written: names, labels and annotations untouched."""
    groups = []
    for name, group in getattr(specs, "rule_groups", {}).items():
        rules: list[Any] = []
        for rule in group.rules:
            if rule.record is not None:
                rules.append(RecordRule(rule.record, rule.expr, dict(rule.labels), rule))
            else:
                conditions, absent = parse_conditions(rule.expr)
                rules.append(AlertRule(
                    name=rule.alert, expr=rule.expr, for_=rule.for_, keep_firing_for=rule.keep_firing_for,
                    labels=dict(rule.labels), annotations=dict(rule.annotations), entity=rule, origin="imported",
                    severity=rule.labels.get("severity", ""), description=rule.annotations.get("description", ""),
                    conditions=conditions, absent=absent))
        groups.append(RuleGroup(name, group.interval, rules, group.limit, origin="imported"))
    return groups


def recording_group(specs: SpecSet) -> list[RuleGroup]:
    project = specs.project
    return [RuleGroup(f"{project.name}.recording", project.evaluation_interval, recording_rules(specs))]


def alert_group(specs: SpecSet) -> list[RuleGroup]:
    project = specs.project
    return [RuleGroup(f"{project.name}.alerts", project.evaluation_interval, alert_rules(specs))]
