"""promql/syntax: every expression parses; the caret points at the token promtool rejects."""
from __future__ import annotations

from monspec import promql


def check(ctx) -> None:
    for site in ctx.sites:
        try:
            promql.parse(site.expr)
        except promql.PromQLSyntaxError as exc:
            ctx.report(site.entity, site.problem("promql/syntax", f"invalid PromQL in {site.label}: {exc.message}",
                                                 offset=exc.offset if exc.offset is not None else 0))
