"""Which component (scrape job) each metric, rule, KPI, alert and dashboard belongs to, and the
component selectors that rules.yml adds to every selector of a component's metrics.

Selectors are data, as in a monitoring mixin's config: specs write `http_requests_total{code=~"5.."}`
and the project says `components: {api: {job: api-prod}}`; the same specs then point at another
environment without an edit to any expression.
"""
from __future__ import annotations

from monspec import promql
from monspec.spec import SpecSet


def metric_component(specs: SpecSet, name: str) -> str | None:
    """The component exporting the raw series `name` (a histogram's `_bucket`/`_sum`/`_count` too)."""
    metric = specs.metrics.get(name)
    if metric is None:
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and specs.metrics.get(name[: -len(suffix)]) is not None:
                metric = specs.metrics[name[: -len(suffix)]]
                if metric.type == "histogram":
                    break
                metric = None
    if metric is None:
        return None
    return metric.component or specs.project.default_component


def components_read(specs: SpecSet, expr: str, seen: frozenset = frozenset()) -> set[str]:
    """The components whose metrics `expr` reads, directly or through recording rules."""
    found: set[str] = set()
    try:
        selectors = promql.parse(expr).selectors
    except promql.PromQLSyntaxError:
        return found
    for selector in selectors:
        name = selector.name or ""
        component = metric_component(specs, name)
        if component is not None:
            found.add(component)
        elif name not in seen:
            for rule in specs.recorded.get(name, ()):
                found |= components_read(specs, rule.expr, seen | {name})
    return found


def component_of(specs: SpecSet, entity, expr: str | None = None) -> str | None:
    """The entity's `component:`, else its KPI's, else the one component its expression reads, else the
    project's only component. None when that is not decided (lint says so for a project with several)."""
    explicit = getattr(entity, "component", None)
    if explicit:
        return explicit
    kpi_name = getattr(entity, "kpi", None)
    if isinstance(kpi_name, str) and kpi_name in specs.kpis:
        return component_of(specs, specs.kpis[kpi_name])
    text = expr if expr is not None else getattr(entity, "expr", None)
    found = components_read(specs, text) if isinstance(text, str) else set()
    if len(found) == 1:
        return next(iter(found))
    return specs.project.default_component


def scoped(specs: SpecSet, expr: str) -> str:
    """`expr` with each raw metric selector narrowed to its component's selector (matchers the
    selector already has on a label stay as written)."""
    project = specs.project

    def wanted(selector) -> list[str]:
        component = metric_component(specs, selector.name or "")
        if component not in project.scrape_jobs:
            return []
        have = {m.name for m in selector.matchers}
        return [f'{label}="{promql.escape_label_value(value)}"' for label, value in sorted(project.selector(component).items())
                if label not in have]

    if not any(project.selector(c) for c in project.scrape_jobs):
        return expr
    return promql.with_matchers(expr, wanted)


def target_labels(specs: SpecSet, component: str) -> dict[str, str]:
    """The labels a scraped series of this component carries: job, instance and the selector's."""
    comp = specs.project.scrape_jobs[component]
    return {"job": comp.job, "instance": comp.scrape_target, **specs.project.selector(component)}


def up_selector(specs: SpecSet, component: str) -> dict[str, str]:
    """What `up` of this component's targets is selected by: its selector, or its job."""
    return specs.project.selector(component) or {"job": specs.project.scrape_jobs[component].job}
