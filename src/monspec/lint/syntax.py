"""promql/syntax: every expression parses; the caret points at the token promtool rejects.
promql/not-a-vector: a rule's or KPI's expression gives one series per instance, as rules need."""
from __future__ import annotations

from monspec import promql


def check(ctx) -> None:
    for site in ctx.sites:
        try:
            promql.parse(site.expr)
        except promql.PromQLSyntaxError as exc:
            ctx.report(site.entity, site.problem("promql/syntax", f"invalid PromQL in {site.label}: {exc.message}",
                                                 offset=exc.offset if exc.offset is not None else 0))
            continue
        kind = promql.value_type(site.expr)
        if site.kind != "panel" and kind != "vector":
            ctx.report(site.entity, site.problem(
                "promql/not-a-vector", f"the expression of {site.label} gives a {kind}, not a series per instance",
                hint="Prometheus rules and the alerts on a KPI need an instant vector, e.g. a selector or an aggregation"))
