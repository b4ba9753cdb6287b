"""Metric types: each series is read the way its type allows.

- promql/counter-without-rate: a counter (or a histogram's _bucket/_sum/_count) read as a level,
  without rate() / increase() / irate() around it; its value only says how long the process ran.
- promql/rate-on-gauge: rate() / irate() / increase() of a gauge (or of a recorded series): the
  result is meaningless, and resets look like huge jumps.
- promql/quantile-without-le: histogram_quantile() over buckets aggregated without `le` in `by`
  (or with `le` in `without`): the buckets merge and the quantile is NaN.

(`promql/histogram-as-value`, a histogram's base name compared as a value, lives in references.)
"""
from __future__ import annotations

COUNTER_FUNCTIONS = {"rate", "irate", "increase", "resets", "absent", "absent_over_time", "present_over_time",
                     "count_over_time", "timestamp", "changes"}
RATE_FUNCTIONS = {"rate", "irate", "increase"}
COUNTER_TYPES = {"counter", "histogram_bucket", "histogram_sum", "histogram_count"}
TYPE_TEXT = {"counter": "a counter", "histogram_bucket": "a histogram's bucket counter",
             "histogram_sum": "a histogram's sum counter", "histogram_count": "a histogram's count counter"}
AGGREGATIONS = {"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile",
                "count_values"}


def check(ctx) -> None:
    for site in ctx.sites:
        analysis = site.analysis()
        if analysis is None:
            continue
        for selector in analysis.selectors:
            series = ctx.catalog.get(selector.name) if selector.name else None
            if series is None:
                continue
            functions = [f for f in selector.enclosing if f not in AGGREGATIONS and f != "subquery"]
            first = functions[0] if functions else None
            if series.type in COUNTER_TYPES and first not in COUNTER_FUNCTIONS:
                ctx.report(site.entity, site.problem(
                    "promql/counter-without-rate",
                    f"`{selector.name}` is {TYPE_TEXT[series.type]}: read it through rate() or increase()",
                    offset=selector.offset,
                    hint=f"rate({_text(selector)}[5m]) for a per-second rate, increase(…[1h]) for a count per hour"))
            if series.type in ("gauge", "recorded") and first in RATE_FUNCTIONS and selector.range_seconds is not None:
                kind = "gauge" if series.type == "gauge" else "recorded series (not a counter)"
                ctx.report(site.entity, site.problem(
                    "promql/rate-on-gauge", f"{first}() of `{selector.name}`, a {kind}: {first}() is for counters",
                    offset=selector.offset,
                    hint="use deriv() for a gauge's per-second change, delta() for its change over the window, "
                         "or the gauge itself"))
            if series.type == "histogram_bucket" and "histogram_quantile" in selector.enclosing:
                problem = _le_dropped(selector)
                if problem:
                    ctx.report(site.entity, site.problem(
                        "promql/quantile-without-le",
                        f"histogram_quantile() over `{selector.name}` aggregated {problem}: the buckets merge",
                        offset=selector.offset, hint="keep `le`: sum by (job, instance, le) (rate(…[5m]))"))


def _le_dropped(selector) -> str | None:
    """How an aggregation between the buckets and histogram_quantile loses `le`, if one does."""
    aggregations = iter(selector.grouping)
    for name in selector.enclosing:
        if name == "histogram_quantile":
            return None
        if name not in AGGREGATIONS:
            continue
        kind, labels = next(aggregations, ("", ()))
        if kind == "by" and "le" not in labels:
            return f"by ({', '.join(labels)}) without `le`"
        if kind == "without" and "le" in labels:
            return "without (le)"
        if kind == "":
            return f"by {name}() without `by (…, le)`"
    return None


def _text(selector) -> str:
    matchers = ",".join(f'{m.name}{m.op}"{m.value}"' for m in selector.matchers)
    return f"{selector.name}{{{matchers}}}" if matchers else selector.name
