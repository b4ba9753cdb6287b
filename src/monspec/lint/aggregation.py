"""Aggregation across instances, where the catalog says how a metric combines.

- promql/mixed-instances: an alert (or the KPI an alert fires on) aggregates a per-instance
  metric without keeping `instance` (no `by` / `without`, or a `by` without it): one sick
  instance is averaged away by healthy ones, and the alert cannot say which instance it is.
  A `by (job, …)` aggregation with the catalog's own `aggregation` function is a deliberate
  job-level condition and passes.
- promql/wrong-aggregation: a gauge aggregated with a different function than the catalog's
  `aggregation` (e.g. `sum` of a utilization ratio whose catalog aggregation is `max`), or
  aggregated at all when the catalog says `none`.
"""
from __future__ import annotations

from monspec.lint.types import AGGREGATIONS

COMBINING = {"sum", "avg", "min", "max"}


def check(ctx) -> None:
    alerted = {alert.kpi for alert in ctx.specs.alerts.values() if alert.kpi}
    alerted |= {kpi.name for kpi in ctx.specs.kpis.values() if kpi.warning is not None or kpi.critical is not None}
    for site in ctx.sites:
        analysis = site.analysis()
        if analysis is None:
            continue
        alerting = site.kind == "alert" or (site.kind == "kpi" and site.entity.name in alerted)
        for selector in analysis.selectors:
            series = ctx.catalog.get(selector.name) if selector.name else None
            metric = series.metric if series is not None else None
            if metric is None:
                continue
            groupings = iter(selector.grouping)
            for depth, name in enumerate(selector.enclosing):
                if name not in AGGREGATIONS:
                    continue
                kind, labels = next(groupings, ("", ()))
                keeps_instance = (kind == "by" and "instance" in labels) or (kind == "without" and "instance" not in labels)
                # `sum by (job)` with the catalog's own aggregation is a job-level alert on purpose (a
                # fleet's availability, its largest lag), not an instance averaged away.
                job_level = kind == "by" and "job" in labels and name == metric.aggregation
                if alerting and not keeps_instance and not job_level and name in COMBINING:
                    how = "without `by`" if kind == "" else (f"by ({', '.join(labels)})" if kind == "by" else f"without ({', '.join(labels)})")
                    ctx.report(site.entity, site.problem(
                        "promql/mixed-instances",
                        f"{name}() {how} mixes the instances of `{selector.name}` in {site.label}",
                        offset=_aggregation_offset(site.expr, name, selector.offset), severity="warning",
                        hint=f"{name} by (job, instance) (…) keeps one series per instance "
                             f"(the catalog aggregates `{selector.name}` with {metric.aggregation})"))
                direct = all(f in AGGREGATIONS for f in selector.enclosing[:depth])
                if series is not None and series.type == "gauge" and direct and name in COMBINING and name != metric.aggregation:
                    expected = "is not aggregated (aggregation: none)" if metric.aggregation == "none" \
                        else f"combines with {metric.aggregation}()"
                    ctx.report(site.entity, site.problem(
                        "promql/wrong-aggregation",
                        f"{name}() of `{selector.name}`, which the catalog says {expected}",
                        offset=_aggregation_offset(site.expr, name, selector.offset), severity="warning",
                        hint=f"use {metric.aggregation}() or change `aggregation` in specs/catalog.yaml"
                        if metric.aggregation != "none" else "query it per instance"))
                break  # the innermost aggregation decides; outer ones see its result


def _aggregation_offset(expr: str, name: str, selector_offset: int) -> int:
    """The aggregation keyword nearest before the selector."""
    found = expr.rfind(name, 0, selector_offset)
    return found if found >= 0 else selector_offset
