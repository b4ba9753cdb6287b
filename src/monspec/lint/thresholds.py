"""kpi/threshold-order: warning lies between target and critical, and all point the same way."""
from __future__ import annotations

from monspec.spec.thresholds import Range, Threshold, format_number


def check(ctx) -> None:
    for kpi in ctx.specs.kpis.values():
        for problem in _order_problems(kpi):
            ctx.report(kpi, problem)


def _bound(threshold) -> float:
    return threshold.value


def _order_problems(kpi):
    warning, critical, target = kpi.warning, kpi.critical, kpi.target
    for level, value in (("warning", warning), ("critical", critical)):
        if isinstance(value, Range):
            yield kpi.problem("kpi/threshold-order", f"`{level}` must be one-sided (\">x\" or \"<x\"), not a band", level)
    if isinstance(warning, Range) or isinstance(critical, Range):
        return
    if warning and critical and warning.direction and critical.direction and warning.direction != critical.direction:
        yield kpi.problem("kpi/threshold-order",
                          f"`warning` ({warning}) and `critical` ({critical}) point in opposite directions", "warning")
        return
    if warning and critical and warning.direction:
        less_strict = warning.value >= critical.value if warning.direction == "low" else warning.value <= critical.value
        if not less_strict:
            yield kpi.problem("kpi/threshold-order",
                              f"`warning` ({warning}) is stricter than `critical` ({critical}): the warning must fire first",
                              "warning", hint=f"swap them, or move warning between target and {format_number(critical.value)}")
    worst = warning or critical
    level = "warning" if warning else "critical"
    if target is None or worst is None or worst.direction is None:
        return
    healthy_edge = _healthy_edge(target, worst.direction)
    if healthy_edge is None:
        return
    bad = worst.value > healthy_edge if worst.direction == "low" else worst.value < healthy_edge
    if bad:
        yield kpi.problem("kpi/threshold-order",
                          f"`{level}` ({worst}) overlaps `target` ({target}): a healthy value would alert", level)


def _healthy_edge(target, direction: str) -> float | None:
    """The target value nearest the alert zone."""
    if isinstance(target, Range):
        return target.low if direction == "low" else target.high
    if isinstance(target, Threshold) and target.direction:
        return target.value
    return None
