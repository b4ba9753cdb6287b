"""Checks of what `monspec import` wrote:

- `catalog/unverified` (warning): catalog metrics nobody has checked against the exporter yet, one
  warning per spec file naming them all.
- `promql/syntax`, `promql/unknown-metric` on the rules of `rule_groups:` (kept verbatim, so the
  other PromQL checks, which assume monspec's conventions, do not run on them).
- `rule-group/duplicate-name`: a rule group named like one monspec generates for the project.
"""
from __future__ import annotations

import difflib

from monspec import promql

SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
             "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE"}


def check(ctx) -> None:
    specs = ctx.specs
    # One warning per spec file, at its first unverified metric: an import of 40 metrics is one fact, not 40.
    by_file: dict[str, list] = {}
    for metric in specs.metrics.values():
        if metric.unverified:
            by_file.setdefault(str(metric.source.path) if metric.source is not None else "", []).append(metric)
    for metrics in by_file.values():
        first = metrics[0]
        if len(metrics) == 1:
            message = f"metric `{first.name}` is unverified: it was imported, not checked against the exporter"
        else:
            names = ", ".join(f"`{m.name}`" for m in metrics)
            message = f"{len(metrics)} metrics are unverified: they were imported, not checked against the exporter: {names}"
        ctx.report(first, first.problem("catalog/unverified", message, key=True, severity="warning",
                                        hint="confirm each one's type, unit, labels and help, then remove `unverified: true`"))
    groups = getattr(specs, "rule_groups", {}) or {}
    if not groups:
        return
    project = specs.project.name
    own = {f"{project}.recording": bool(specs.recording_rules), f"{project}.alerts": bool(ctx.model.alert_rules)}
    recorded = {r.record for g in groups.values() for r in g.rules if r.record}
    known = set(ctx.catalog.series) | recorded | SYNTHETIC
    for name, group in groups.items():
        if name in own and own[name]:
            ctx.report(group, group.problem("rule-group/duplicate-name",
                                            f"rule group `{name}` is also the name of the project's generated group",
                                            key=True, hint="rename the imported group"))
        for _i, rule in enumerate(group.rules):
            try:
                analysis = promql.parse(rule.expr)
            except promql.PromQLSyntaxError as exc:
                ctx.report(rule, specs_problem(rule, "promql/syntax", f"invalid PromQL in {rule.rule_name}: {exc.message}",
                                               exc.offset or 0))
                continue
            for selector in analysis.selectors:
                if selector.name and selector.name not in known:
                    close = difflib.get_close_matches(selector.name, sorted(known), n=1, cutoff=0.75)
                    ctx.report(rule, specs_problem(
                        rule, "promql/unknown-metric", f"unknown metric `{selector.name}` in {rule.rule_name}",
                        selector.offset, hint=f"did you mean `{close[0]}`?" if close else
                        "add it to the catalog (metrics:), `unverified: true` until checked"))


def specs_problem(rule, id: str, message: str, offset: int, **kw):
    return rule.source.problem(id, message, rule.path + ("expr",), offset=offset, **kw)
