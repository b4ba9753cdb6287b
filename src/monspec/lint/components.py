"""Spec references beyond PromQL: every `component:` names one of the project's components, a project
with several says which component each metric belongs to, an alert's `parent:` names an alert, and
units outside the known list are flagged (the list is open, so only a warning)."""
from __future__ import annotations

import difflib

from monspec.model.rules import camel
from monspec.spec.base import KNOWN_UNITS


def check(ctx) -> None:
    check_units(ctx)
    specs = ctx.specs
    project = specs.project
    names = sorted(project.scrape_jobs)
    entities = [*specs.metrics.values(), *specs.kpis.values(), *specs.alerts.values(), *specs.dashboards.values()]
    for entity in entities:
        component = getattr(entity, "component", None)
        if component is not None and component not in project.scrape_jobs:
            close = difflib.get_close_matches(component, names, n=1)
            ctx.report(entity, entity.problem(
                "spec/unknown-component", f"no component named `{component}`", "component",
                hint=f"did you mean `{close[0]}`?" if close else f"components: {', '.join(names)}"))
    if len(names) > 1:
        for metric in specs.metrics.values():
            if metric.component is None:
                ctx.report(metric, metric.problem(
                    "catalog/missing-component", f"`{metric.name}` names no component; the project has {len(names)}",
                    key=True, hint=f"add `component:` with one of {', '.join(names)}: rules.yml narrows its selectors "
                    "to that component's job"))
    for key, alert in specs.alerts.items():
        if alert.parent is None:
            continue
        if alert.parent not in specs.alerts:
            close = difflib.get_close_matches(alert.parent, sorted(specs.alerts), n=1)
            ctx.report(alert, alert.problem(
                "alert/unknown-parent", f"no alert named `{alert.parent}` to be this alert's parent", "parent",
                hint=f"did you mean `{close[0]}`?" if close else "`parent:` takes the key of another alert in `alerts:`"))
        elif alert.parent == key or camel(alert.parent) == camel(key):
            ctx.report(alert, alert.problem("alert/unknown-parent", "an alert cannot be its own parent", "parent"))


def check_units(ctx) -> None:
    """catalog/unknown-unit: a unit outside the known list still renders (values print with `humanize`,
    dashboards show no unit), so it is a warning that names the known ones, never an error."""
    specs = ctx.specs
    for entity in [*specs.metrics.values(), *specs.recording_rules, *specs.kpis.values()]:
        if entity.unit not in KNOWN_UNITS:
            close = difflib.get_close_matches(entity.unit, KNOWN_UNITS, n=1)
            ctx.report(entity, entity.problem(
                "catalog/unknown-unit", f"unit `{entity.unit}` is not one monspec knows: values print with humanize, "
                "dashboards show no unit", "unit", severity="warning",
                hint=f"did you mean `{close[0]}`?" if close else f"known units: {', '.join(KNOWN_UNITS)}"))
