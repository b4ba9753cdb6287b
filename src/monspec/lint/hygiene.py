"""Alert hygiene: what an on-call person needs on every alert, and alerts that agree with each other.

- alert/missing-annotation: summary, description or runbook_url empty (an `annotations:` entry
  can blank the generated ones).
- alert/severity: a `severity` in `labels:` that contradicts the alert's `severity:` (which wins,
  silently). Severities outside critical | warning | info are rejected by the schema.
- alert/missing-for: a threshold alert without `for`: one bad scrape or evaluation pages.
- alert/name-case: an alert name that is not CamelCase (its key is the guide's snake_case name).
- alert/warning-stricter: a warning threshold stricter than the critical one on the same
  expression, so the critical alert fires first.
"""
from __future__ import annotations

import re

from monspec.spec.thresholds import format_number

CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
REQUIRED = ("summary", "description", "runbook_url")
ORDERINGS = {">", ">=", "<", "<="}


def check(ctx) -> None:
    rules = [r for r in ctx.model.alert_rules if r.origin == "alert"]
    for rule in rules:
        alert = rule.entity
        for name in REQUIRED:
            if not str(rule.annotations.get(name) or "").strip():
                where = ("annotations", name) if name in alert.annotations else ()
                ctx.report(alert, alert.problem(
                    "alert/missing-annotation", f"alert `{rule.name}` has an empty `{name}` annotation", *where,
                    key=True,
                    hint="on-call needs a summary, a description and a runbook link on every alert"))
        label = alert.labels.get("severity")
        if label is not None and label != alert.severity:
            ctx.report(alert, alert.problem(
                "alert/severity", f"`labels.severity` is \"{label}\" but the alert's `severity` is \"{alert.severity}\" "
                f"(which wins)", "labels", "severity", hint="set the severity once, with `severity:`"))
        if not CAMEL.match(rule.name):
            ctx.report(alert, alert.problem(
                "alert/name-case", f"alert name `{rule.name}` is not CamelCase", key=True,
                hint="name the alert by a snake_case key (cache_hit_rate_critical -> CacheHitRateCritical)"))
        if rule.for_ is None and rule.conditions and not rule.absent:
            ctx.report(alert, alert.problem(
                "alert/missing-for", f"threshold alert `{rule.name}` has no `for`: a single evaluation past "
                f"{format_number(rule.conditions[0].value)} fires it", key=True, severity="warning",
                hint="add `for: 5m` (or the time the condition must hold)"))
    _warning_stricter(ctx, rules)


def _warning_stricter(ctx, rules) -> None:
    by_lhs: dict[str, dict[str, list]] = {}
    for rule in rules:
        if len(rule.conditions) != 1 or rule.absent or rule.severity not in ("warning", "critical"):
            continue
        [condition] = rule.conditions
        if condition.op in ORDERINGS:
            by_lhs.setdefault(condition.lhs_text, {}).setdefault(rule.severity, []).append((rule, condition))
    for levels in by_lhs.values():
        for warning, w in levels.get("warning", []):
            w_op, w_value = w.op, w.value
            for critical, c in levels.get("critical", []):
                c_op, c_value = c.op, c.value
                high = w_op in (">", ">=")
                if high != (c_op in (">", ">=")):
                    continue
                stricter = w_value > c_value if high else w_value < c_value
                if not stricter:
                    continue
                alert = warning.entity
                path = ("expr",) if alert.expr is not None else ("kpi",)
                ctx.report(alert, alert.problem(
                    "alert/warning-stricter",
                    f"warning `{warning.name}` ({w_op} {format_number(w_value)}) is stricter than critical "
                    f"`{critical.name}` ({c_op} {format_number(c_value)}): the critical alert fires first",
                    *path, related=(critical.entity.position(key=True),),
                    hint="a warning threshold lies between the healthy range and the critical one"))
