"""Catalog references: unknown metrics, unknown labels, label values outside the catalog's list,
and a histogram's base name used as if it were a gauge (the guide's response-time alert)."""
from __future__ import annotations

import difflib

from monspec.model.catalog import TARGET_LABELS


def check(ctx) -> None:
    catalog = ctx.catalog
    known = sorted(catalog.series) + sorted(catalog.histograms)
    for site in ctx.sites:
        analysis = site.analysis()
        if analysis is None:
            continue
        for selector in analysis.selectors:
            name = selector.name
            if name is None:
                continue
            if name in catalog.histograms:
                ctx.report(site.entity, site.problem(
                    "promql/histogram-as-value",
                    f"`{name}` is a histogram: its base name has no value to compare",
                    offset=selector.offset,
                    hint=_histogram_hint(name, selector, catalog)))
                continue
            series = catalog.get(name)
            if series is None:
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
                hint = f"did you mean `{close[0]}`?" if close else "add it to specs/catalog.yaml (metrics:) or a recording rule"
                ctx.report(site.entity, site.problem("promql/unknown-metric", f"unknown metric `{name}` in {site.label}",
                                                     offset=selector.offset, hint=hint))
                continue
            for matcher in selector.matchers:
                if not series.allows(matcher.name):
                    allowed = sorted(set(series.labels) | set(TARGET_LABELS))
                    close = difflib.get_close_matches(matcher.name, allowed, n=1, cutoff=0.6)
                    hint = f"did you mean `{close[0]}`?" if close else f"`{name}` has labels: {', '.join(allowed)}"
                    ctx.report(site.entity, site.problem(
                        "promql/unknown-label", f"`{name}` has no label `{matcher.name}`",
                        offset=_matcher_offset(site.expr, selector.offset, matcher.name), hint=hint))
                    continue
                values = series.values(matcher.name)
                if values is None or matcher.op in ("!=", "!~"):
                    continue
                candidates = [matcher.value] if matcher.op == "=" else None
                if candidates is None:
                    if not any(matcher.matches(v) for v in values):
                        ctx.report(site.entity, site.problem(
                            "promql/label-value", f"`{matcher.name}=~\"{matcher.value}\"` matches none of {_list(values)}",
                            offset=_matcher_offset(site.expr, selector.offset, matcher.name)))
                    continue
                if matcher.value not in values:
                    close = difflib.get_close_matches(matcher.value, sorted(values), n=1, cutoff=0.5)
                    value_hint = f"did you mean `{close[0]}`?" if close else None
                    ctx.report(site.entity, site.problem(
                        "promql/label-value",
                        f"`{matcher.name}` of `{name}` is never \"{matcher.value}\": allowed {_list(values)}",
                        offset=_matcher_offset(site.expr, selector.offset, matcher.name), hint=value_hint))


def _list(values) -> str:
    return ", ".join(f'"{v}"' for v in sorted(values))


def _matcher_offset(expr: str, selector_offset: int, label: str) -> int:
    brace = expr.find("{", selector_offset)
    if brace < 0:
        return selector_offset
    end = expr.find("}", brace)
    found = expr.find(label, brace, end if end > 0 else None)
    return found if found >= 0 else selector_offset


def _histogram_hint(name: str, selector, catalog) -> str:
    """The quantile to compare instead, and the recorded quantiles of this histogram that exist."""
    matchers = ",".join(f'{m.name}{m.op}"{m.value}"' for m in selector.matchers)
    inner = f"{name}_bucket{{{matchers}}}" if matchers else f"{name}_bucket"
    hint = f"compare a quantile instead: histogram_quantile(0.95, sum by (job, instance, le) (rate({inner}[5m])))"
    recorded = sorted({series.name for series in catalog.series.values() if series.type == "recorded"
                       and any("histogram_quantile" in rule.expr and f"{name}_bucket" in rule.expr for rule in series.rules)})
    if recorded:
        hint += ", or the recorded " + ", ".join(f"`{r}`" for r in recorded)
    return hint
