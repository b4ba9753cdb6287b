"""SLO checks: each SLI selector is one series selector, the histogram has the `le` bucket asked
for, every window can be served by the scrape and evaluation intervals, every burn-rate threshold
is reachable, and alert names are unique.

The SLI's selectors are also expression sites (`lint.sites.slo_sites`), so the catalog checks
every expression gets (unknown metric, label, value, rate of a gauge) apply to them too.
"""
from __future__ import annotations

import difflib
from decimal import Decimal

from monspec import promql
from monspec.lint.sites import is_selector
from monspec.model.objective import Objective, decimal_text, histogram_selector, percent_text
from monspec.model.rules import camel
from monspec.spec.durations import format_duration, parse_duration

MIN_SCRAPES = 4  # a rate window should span at least four scrapes (Prometheus' advice)


def check(ctx) -> None:
    specs = ctx.specs
    project = specs.project
    scrape = parse_duration(project.scrape_interval)
    evaluation = parse_duration(project.evaluation_interval)
    names = {camel(key) for key in specs.alerts}
    for slo in specs.slos.values():
        objective = Objective(slo, project)
        if slo.sli.latency is not None:
            _check_histogram(ctx, slo, ctx.catalog)
        if slo.sli.ratio is not None or slo.sli.latency is not None:
            _check_selectors(ctx, slo)
        for severity, sev in objective.severities:
            for i, pair in enumerate(sev.windows):
                where = ("alerting", severity, "windows", i)
                for field in ("short", "long"):
                    seconds = parse_duration(getattr(pair, field))
                    if seconds < MIN_SCRAPES * scrape or seconds < evaluation:
                        ctx.report(slo, slo.problem(
                            "slo/window", f"the {field} window {getattr(pair, field)} is shorter than {MIN_SCRAPES} scrape "
                            f"intervals ({project.scrape_interval}) or one evaluation interval ({project.evaluation_interval})",
                            *where, field, hint=f"use at least {format_duration(max(MIN_SCRAPES * scrape, evaluation))}"))
                    if seconds > objective.window_seconds:
                        ctx.report(slo, slo.problem(
                            "slo/window", f"the {field} window {getattr(pair, field)} is longer than the SLO window {slo.window}",
                            *where, field))
                threshold = Decimal(str(pair.factor)) * objective.budget
                if threshold >= 1:
                    # Point at the factor where the spec writes it, else at the objective that makes the default fail.
                    written = (*slo.path, *where, "factor") in slo.source.values
                    ctx.report(slo, slo.problem(
                        "slo/unreachable-threshold",
                        f"a {decimal_text(Decimal(str(pair.factor)))}x burn of a {percent_text(objective.budget)} error budget "
                        f"needs an error ratio of {percent_text(threshold)}: this alert can never fire",
                        *((*where, "factor") if written else ("objective",)),
                        hint=f"lower the factor below {decimal_text(1 / objective.budget)}, or disable `{severity}` alerting"))
                name = objective.alert_name(pair)
                if name in names:
                    ctx.report(slo, slo.problem("slo/duplicate-alert", f"a second alert named `{name}`", *where,
                                                hint="give the window its own `name`"))
                names.add(name)


def _check_histogram(ctx, slo, catalog) -> None:
    latency = slo.sli.latency
    try:
        name, _ = histogram_selector(latency.histogram)
    except (promql.PromQLSyntaxError, ValueError):
        ctx.report(slo, latency.problem("slo/selector", "`histogram` must be a histogram name with optional "
                                        "label matchers, e.g. `http_request_duration_seconds{route=\"/pay\"}`", "histogram"))
        return
    metric = catalog.histograms.get(name)
    if metric is None:
        known = sorted(catalog.histograms)
        close = difflib.get_close_matches(name.removesuffix("_bucket"), known, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else (f"histograms in the catalog: {', '.join(known)}" if known else None)
        ctx.report(slo, latency.problem("slo/not-a-histogram", f"`{name}` is not a histogram of the catalog", "histogram",
                                        hint=hint))
        return
    if metric.buckets and not any(abs(b - latency.le) <= 1e-12 * max(1.0, b) for b in metric.buckets):
        buckets = ", ".join(f"{b:g}" for b in metric.buckets)
        ctx.report(slo, latency.problem("slo/bucket", f"{latency.le:g} is not a bucket bound of `{name}`", "le",
                                        hint=f"its buckets: {buckets}"))


def _check_selectors(ctx, slo) -> None:
    """Each SLI selector is one plain series selector (the sites carry the catalog checks)."""
    sli = slo.sli
    fields = [(sli.ratio, f) for f in ("errors", "good", "total")] if sli.ratio is not None else [(sli.latency, "histogram")]
    for entity, field in fields:
        text = getattr(entity, field)
        if text is not None and not is_selector(text):
            ctx.report(slo, entity.problem(
                "slo/selector", f"`{field}` must be one series selector such as `http_requests_total{{code=~\"5..\"}}`; "
                "the SLI adds rate() and sum() itself (use `raw` for any other query)", field))
