"""Alert references: a `kpi:` alert names a KPI that has the threshold of its `level`,
and no two alerts (hand-written or KPI-derived) share a name."""
from __future__ import annotations

import difflib

from monspec.model.rules import AlertRule


def check(ctx) -> None:
    specs = ctx.specs
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
