"""Alert references: a `kpi:` alert names a KPI that has the threshold of its `level`,
no two alerts (hand-written or KPI-derived) share a name, and every annotation and alert label
value (the project's labels too) is a Go template Prometheus can parse (`alert/template`)."""
from __future__ import annotations

import difflib
from typing import Any

from monspec.model.rules import AlertRule


def check(ctx) -> None:
    specs = ctx.specs
    templated: list[tuple[Any, tuple[str, ...], str]] = [
        (specs.project, ("labels", name), text) for name, text in specs.project.labels.items()]
    for alert in specs.alerts.values():
        templated += [(alert, ("summary",), alert.summary), (alert, ("description",), alert.description)]
        templated += [(alert, (field, name), text) for field in ("annotations", "labels")
                      for name, text in getattr(alert, field).items()]
    for entity, path, text in templated:
        reason = template_problem(text)
        if reason:
            ctx.report(entity, entity.problem("alert/template", f"`{path[-1]}` is not a valid Go template: {reason}", *path,
                                              hint='close the action with }}, or write a literal {{ as {{ "{{" }}'))
    for alert in specs.alerts.values():
        if alert.kpi is None:
            continue
        kpi = specs.kpis.get(alert.kpi)
        if kpi is None:
            close = difflib.get_close_matches(alert.kpi, sorted(specs.kpis), n=1)
            ctx.report(alert, alert.problem("alert/unknown-kpi", f"no KPI named `{alert.kpi}`", "kpi",
                                            hint=f"did you mean `{close[0]}`?" if close else f"KPIs: {', '.join(sorted(specs.kpis))}"))
        elif getattr(kpi, alert.level) is None:
            ctx.report(alert, alert.problem("alert/missing-threshold",
                                            f"KPI `{alert.kpi}` has no `{alert.level}` threshold to alert on", "level"))
    if any(p.id.startswith("alert/unknown-kpi") or p.id == "alert/missing-threshold" for p in ctx.problems):
        return
    seen: dict[str, AlertRule] = {}
    for rule in ctx.model.alert_rules:
        if rule.name in seen:
            first = seen[rule.name]
            ctx.report(rule.entity, rule.entity.problem(
                "alert/duplicate-name", f"alert name `{rule.name}` is produced twice", key=True,
                related=(first.entity.position(key=True),)))
        else:
            seen[rule.name] = rule


def template_problem(text: str) -> str | None:
    """Why Prometheus could not parse text as a Go template (unclosed or empty actions), or None."""
    start = text.find("{{")
    while start != -1:
        end = text.find("}}", start + 2)
        if end == -1:
            return "an action `{{` is never closed"
        if not text[start + 2:end].strip(" -\t\n"):
            return "an empty action `{{ }}`"
        start = text.find("{{", end + 2)
    return None
