"""Checks of what `monspec import` wrote:

- `catalog/unverified` (warning): a catalog metric nobody has checked against the exporter yet.
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
    for name, metric in specs.metrics.items():
        if metric.unverified:
            ctx.report(metric, metric.problem(
                "catalog/unverified", f"metric `{name}` is unverified: it was imported, not checked against the exporter",
                key=True, severity="warning", hint="confirm its type, unit, labels and help, then remove `unverified: true`"))
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
