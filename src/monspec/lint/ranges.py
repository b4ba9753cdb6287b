"""promql/range-too-short: a range window shorter than 4x the scrape interval.

rate() needs two samples in its window and gets noisy with few; one failed scrape in a
window of two makes the series vanish. Four scrape intervals is the usual minimum.
"""
from __future__ import annotations

from monspec.promql import outside_strings
from monspec.spec.durations import format_duration, parse_duration

FACTOR = 4


def check(ctx) -> None:
    scrape = parse_duration(ctx.specs.project.scrape_interval)
    minimum = FACTOR * scrape
    for site in ctx.sites:
        analysis = site.analysis()
        if analysis is None:
            continue
        for selector in analysis.selectors:
            if selector.range_seconds is None or selector.range_seconds >= minimum:
                continue
            offset = _range_offset(site.expr, selector.offset)
            ctx.report(site.entity, site.problem(
                "promql/range-too-short",
                f"range [{format_duration(selector.range_seconds)}] spans fewer than {FACTOR} scrape intervals "
                f"({ctx.specs.project.scrape_interval} each)",
                offset=offset, severity="warning",
                hint=f"use at least [{format_duration(minimum)}]"))


def _range_offset(expr: str, start: int) -> int:
    """The `[` of the selector at `start`: past its name and its {matchers} (quotes respected)."""
    i = start
    while i < len(expr) and (expr[i].isalnum() or expr[i] in "_:"):
        i += 1
    while i < len(expr) and expr[i].isspace():
        i += 1
    if i < len(expr) and expr[i] == "{":
        i = next((j for j, c in outside_strings(expr, i) if c == "}"), len(expr))
    found = expr.find("[", i)
    return found if found >= 0 else start
