"""alert/annotation-unit: an annotation that prints `{{ $value }}` with a unit the expression does not yield.

The guide's "L1 cache response time critically high: {{ $value }}ms" shows 0.012 (seconds)
as "0.012ms"; its "{{ $value }} errors/min" shows a per-second rate. The text may say
"ms", "%" or "/min" (also "per minute") only when the value is converted: by the template
(humanizeDuration, humanizePercentage) or by the expression (`* 1000`, `* 100`, `* 60`).
"""
from __future__ import annotations

import re

import promql_parser as pp

ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
CLAIMS = (
    ("ms", re.compile(r"\s?(ms)\b"), "seconds", 1000.0, "humanizeDuration", "milliseconds"),
    ("%", re.compile(r"\s?(%)"), "ratio", 100.0, "humanizePercentage", "a percentage"),
    ("/min", re.compile(r"\s?(?:[A-Za-z]+\s?)?(/\s?min\b|per min)"), "per-second", 60.0, None, "a per-minute rate"),
)
SECONDS_UNITS = {"seconds"}
RATE_UNITS = {"ops"}


def check(ctx) -> None:
    for rule in ctx.model.alert_rules:
        if rule.origin != "alert":
            continue  # KPI-derived and absence annotations are written by monspec itself
        try:
            kind, scale = value_kind(pp.parse(rule.expr), ctx.catalog)
        except ValueError:
            continue
        alert = rule.entity
        fields: list[tuple[str, ...]] = [("summary",), ("description",)] + [("annotations", k) for k in alert.annotations]
        for path in fields:
            text = alert.summary if path == ("summary",) else alert.description if path == ("description",) \
                else alert.annotations[path[1]]
            for problem in _claims(text, kind, scale):
                unit, offset, wants, fix = problem
                ctx.report(alert, alert.problem(
                    "alert/annotation-unit",
                    f"`{'.'.join(path)}` shows {{{{ $value }}}} as {wants} (\"{unit}\"), but `{rule.name}`'s "
                    f"expression yields {_kind_text(kind)}",
                    *path, offset=offset, hint=fix))


def _claims(text: str, kind: str, scale: float):
    for match in ACTION.finditer(text):
        body = match.group(1)
        if "$value" not in body:
            continue
        rest = text[match.end():]
        for unit, pattern, needs_kind, factor, converter, wants in CLAIMS:
            found = pattern.match(rest)
            if not found or kind != needs_kind or scale == factor or (converter and converter in body):
                continue
            offset = match.end() + found.start(1)
            if converter:
                fix = f"write {{{{ $value | {converter} }}}} (it adds the unit itself) and drop \"{unit}\""
            else:
                fix = "multiply the expression by 60 (e.g. `… * 60 > 1`) so $value is per minute"
            yield unit, offset, wants, fix


def _kind_text(kind: str) -> str:
    return {"seconds": "seconds", "ratio": "a ratio (0-1)", "per-second": "a per-second rate"}[kind]


def value_kind(node, catalog) -> tuple[str, float]:
    """(kind, scale) of the value an expression yields: kind seconds | ratio | per-second | count | other,
    scale the product of the numbers it was multiplied by."""
    if isinstance(node, pp.ParenExpr):
        return value_kind(node.expr, catalog)
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op)
        if op in ("and", "unless", "or", "==", "!=", ">", "<", ">=", "<="):
            return value_kind(node.lhs, catalog)
        lhs, rhs = _unparen(node.lhs), _unparen(node.rhs)
        if op in ("*", "/") and isinstance(rhs, pp.NumberLiteral):
            kind, scale = value_kind(lhs, catalog)
            return kind, scale * rhs.val if op == "*" else scale / rhs.val
        if op == "*" and isinstance(lhs, pp.NumberLiteral):
            kind, scale = value_kind(rhs, catalog)
            return kind, scale * lhs.val
        if op == "/":
            left, right = value_kind(lhs, catalog), value_kind(rhs, catalog)
            if left == right and left[0] != "other":
                return "ratio", 1.0
        return "other", 1.0
    if isinstance(node, pp.AggregateExpr):
        return value_kind(node.expr, catalog) if str(node.op) in ("sum", "avg", "min", "max") else ("other", 1.0)
    if isinstance(node, pp.Call):
        name = node.func.name
        if name in ("rate", "irate", "deriv"):
            return "per-second", 1.0
        if name == "increase":
            return "count", 1.0
        if name == "histogram_quantile":
            inner = _first_selector(node.args[1])
            series = catalog.get(inner) if inner else None
            return ("seconds", 1.0) if series is not None and series.unit in SECONDS_UNITS else ("other", 1.0)
        if name in ("abs", "clamp", "clamp_min", "clamp_max", "round", "avg_over_time", "max_over_time",
                    "min_over_time", "last_over_time"):
            return value_kind(node.args[0], catalog)
        return "other", 1.0
    if isinstance(node, pp.MatrixSelector):
        return value_kind(node.vector_selector, catalog)
    if isinstance(node, pp.VectorSelector):
        series = catalog.get(node.name) if node.name else None
        if series is None:
            histogram = catalog.histograms.get(node.name)  # a base name used as a value: its unit still applies
            return ("seconds", 1.0) if histogram is not None and histogram.unit in SECONDS_UNITS else ("other", 1.0)
        if series.type in ("counter", "histogram_bucket", "histogram_count"):
            return "count", 1.0
        if series.unit in SECONDS_UNITS:
            return "seconds", 1.0
        if series.unit == "ratio":
            return "ratio", 1.0
        if series.unit in RATE_UNITS:
            return "per-second", 1.0
    return "other", 1.0


def _unparen(node):
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _first_selector(node) -> str | None:
    found: list[str] = []

    def pre(n):
        if isinstance(n, pp.VectorSelector) and n.name and not found:
            found.append(n.name)

    pp.walk(node, pre, lambda n: None)
    return found[0] if found else None
