"""The SLO dashboard as a dashboard spec, part of the compiled model like the spec set's own.

Per SLO: the SLI over its window against the objective, the error budget left and its burn-down
over the window, the burn rate over each alert window with the alert factors as lines, and the
SLO's firing alerts. Built here rather than by its renderer so that alert placement (which
dashboard shows which alert) and the runbook see it as they see every other dashboard.
"""
from __future__ import annotations

from collections.abc import Sequence

from monspec.model.objective import (
    BUDGET_REMAINING,
    CURRENT_BURN,
    Objective,
    decimal_text,
    percent_text,
    window_text,
)
from monspec.spec.dashboards import Dashboard
from monspec.spec.durations import parse_duration
from monspec.spec.models import Project

KEY = "slos"  # its key among the model's dashboards: its uid is `<project>-slos`
LINE_COLORS = {"page": "red", "ticket": "orange"}


def slo_board(project: Project, found: Sequence[Objective]) -> Dashboard | None:
    """The SLO dashboard of these objectives (None without any)."""
    if not found:
        return None
    return Dashboard.model_validate({
        "title": f"{project.title} - SLOs",
        "description": "Service level objectives: SLI, error budget, burn rates and burn-rate alerts (generated from slos:).",
        "tags": ["slo"],
        "time": {"from": "now-7d", "to": "now"},
        "panels": [panel for objective in found for panel in _panels(objective)],
    })


def _panels(objective: Objective) -> list[dict]:
    slo = objective.slo
    title = slo.display_title
    budget = decimal_text(objective.budget)
    target = float(decimal_text(1 - objective.budget))
    period = objective.series(objective.ratio_name(objective.window_seconds))
    remaining = objective.series(BUDGET_REMAINING)
    alert_windows = sorted({w for a in objective.burn_alerts for w in (a.long, a.short)})
    alert_names = "|".join(a.rule.name for a in objective.burn_alerts)
    return [
        {"title": f"{title}: SLI over {slo.window}", "visualization": "stat", "width": 6,
         "description": f"{slo.description.strip()} Objective {decimal_text(slo.objective)}% over {slo.window}.",
         "targets": [{"expr": f"1 - {period}", "legend": "SLI", "unit": "percentunit", "thresholds": [target]}]},
        {"title": f"{title}: burn rate now", "visualization": "stat", "width": 6,
         "description": f"Error ratio over the last {window_text(objective.base_window)} divided by the error budget: "
                        "1 spends the budget exactly over the SLO window.",
         "targets": [{"expr": objective.series(CURRENT_BURN), "legend": "Burn rate", "unit": "none",
                      "thresholds": sorted({float(a.window.factor) for a in objective.burn_alerts} | {1.0},
                                           reverse=True)[:3]}]},
        {"title": f"{title}: error budget left", "visualization": "stat", "width": 6,
         "description": f"Share of the {slo.window} error budget ({percent_text(objective.budget)}) not yet spent; below 0 the objective is missed.",
         "targets": [{"expr": remaining, "legend": "Budget left", "unit": "percentunit", "thresholds": [0.0, 0.25]}]},
        {"title": f"{title}: alerts", "visualization": "table", "width": 6,
         "targets": [{"expr": f'ALERTS{{alertname=~"{alert_names}", alertstate="firing"}}', "legend": "Firing",
                      "format": "table"}]},
        {"title": f"{title}: error budget burn-down", "visualization": "timeseries", "timespan": slo.window,
         "unit": "percentunit",
         "targets": [{"expr": remaining, "legend": "Budget left"}],
         "thresholds": [{"value": 0.0, "color": "red", "label": "Budget spent"}]},
        {"title": f"{title}: burn rate per window", "visualization": "timeseries", "timespan": "1d",
         "description": f"Error ratio over each alert window divided by the error budget ({budget}): 1 spends the "
                        f"budget exactly over {slo.window}.",
         "targets": [{"expr": f"{objective.series(objective.ratio_name(w))} / {budget}", "legend": window_text(w),
                      "unit": "none"} for w in alert_windows],
         "thresholds": [{"value": float(decimal_text(a.threshold / objective.budget)), "color": LINE_COLORS[a.severity],
                         "label": f"{a.rule.name} ({a.window.long} and {a.window.short})"}
                        for a in _by_factor(objective)]},
    ]


def _by_factor(objective: Objective):
    """One line per distinct factor (two pairs may share one), the first alert naming it."""
    seen: dict[float, object] = {}
    for alert in sorted(objective.burn_alerts, key=lambda a: (-a.window.factor, parse_duration(a.window.long))):
        seen.setdefault(alert.window.factor, alert)
    return list(seen.values())
