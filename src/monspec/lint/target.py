"""promql/unsupported-by-target: PromQL the project's target Prometheus cannot load.

promql-parser follows Prometheus 3, while a team may run 2.x (the promtool this project pins is
2.42): a function or aggregation added later (limitk, sort_by_label, info, ...), or a quoted UTF-8
metric or label name, parses here and is rejected by `promtool check rules` there — or worse, only by the
server at load time. `project.prometheus_version` names the target.
"""
from __future__ import annotations

import re

import promql_parser as pp

from monspec import promql

# The first Prometheus release that loads each name (features behind a flag count from their release).
SINCE: dict[str, tuple[int, int]] = {
    "histogram_count": (2, 40), "histogram_sum": (2, 40), "histogram_fraction": (2, 40),
    "histogram_stddev": (2, 40), "histogram_stdvar": (2, 40), "histogram_avg": (2, 50),
    "mad_over_time": (2, 49), "sort_by_label": (2, 49), "sort_by_label_desc": (2, 49),
    "limitk": (2, 54), "limit_ratio": (2, 54), "double_exponential_smoothing": (3, 0), "info": (3, 0),
    "ts_of_max_over_time": (3, 5), "ts_of_min_over_time": (3, 5), "ts_of_last_over_time": (3, 5),
    "first_over_time": (3, 5),
}


QUOTED = "a quoted metric or label name"
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _quoted_name(expr: str, selector: promql.Selector) -> bool:
    """Prometheus 3's quoted (UTF-8) names: `{"my.metric"}`, `up{"my.label"="x"}`. A selector without a
    metric name (`{job="api"}`) and a `__name__="..."` matcher are Prometheus 2 as well."""
    if any(not LABEL_NAME.fullmatch(m.name) for m in selector.matchers):
        return True
    at = selector.offset - 1  # the character before the metric name: a quote, when the name is quoted
    return bool(selector.name) and at >= 0 and expr[at] in "\"'`" and expr[:at].rstrip().endswith(("{", ","))


def parse_version(text: str) -> tuple[int, int]:
    major, minor = (text.split(".") + ["0"])[:2]
    return int(major), int(minor)


def check(ctx) -> None:
    target = parse_version(ctx.specs.project.prometheus_version)
    shown = ctx.specs.project.prometheus_version
    for site in ctx.sites:
        analysis = site.analysis()
        if analysis is None:
            continue
        found: list[str] = []

        def pre(node, found=found):
            if isinstance(node, pp.Call):
                found.append(node.func.name)
            elif isinstance(node, pp.AggregateExpr):
                found.append(str(node.op))

        pp.walk(analysis.ast, pre, lambda node: None)
        quoted = next((s for s in analysis.selectors if _quoted_name(site.expr, s)), None)
        if quoted is not None:
            found.append(QUOTED)
        for name in dict.fromkeys(found):
            since = (3, 0) if name == QUOTED else SINCE.get(name)
            if since is None or target >= since:
                continue
            what = name if name == QUOTED else f"`{name}`"
            offset = quoted.offset if name == QUOTED and quoted is not None else site.expr.find(name) if name in site.expr else 0
            ctx.report(site.entity, site.problem(
                "promql/unsupported-by-target",
                f"{what} needs Prometheus {since[0]}.{since[1]}; the target is {shown} (project.prometheus_version)",
                offset=max(offset, 0), hint="rewrite it for the target, or raise `prometheus_version` when every "
                "Prometheus (and promtool) that loads these rules is that new"))
