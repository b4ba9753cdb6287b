"""generated/grafana/dashboards/<project>-slos.json: one dashboard for a spec set's SLOs.

Per SLO: the SLI over its window against the objective, the error budget left and its burn-down
over the window, the burn rate over each alert window with the alert factors as lines, and the
SLO's firing alerts. Built as a dashboard spec and rendered by the same dashboard renderer as
every other dashboard; its queries read the SLO recordings, which are aggregated by job, so
they are filtered on `$job` only (and not at all when an SLO aggregates `job` away).
"""
from __future__ import annotations

import json

from monspec.model import Model
from monspec.model.objective import (
    BUDGET_REMAINING,
    CURRENT_BURN,
    Objective,
    decimal_text,
    objectives,
    percent_text,
    window_text,
)
from monspec.render.dashboards import dashboard_json
from monspec.spec.dashboards import Dashboard
from monspec.spec.durations import parse_duration

LINE_COLORS = {"page": "red", "ticket": "orange"}


def render(model: Model) -> dict[str, str]:
    return {f"grafana/dashboards/{data['uid']}.json": json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            for data in slo_dashboards(model)}


def slo_dashboards(model: Model) -> list[dict]:
    """The SLO dashboard as Grafana stores it (none without SLOs); `monspec push` sends it too."""
    found = objectives(model.specs)
    if not found:
        return []
    project = model.specs.project
    dashboard = Dashboard.model_validate({
        "title": f"{project.title} - SLOs",
        "description": "Service level objectives: SLI, error budget, burn rates and burn-rate alerts (generated from slos:).",
        "tags": ["slo"],
        "time": {"from": "now-7d", "to": "now"},
        "panels": [panel for objective in found for panel in _panels(objective)],
    })
    by_job = all("job" in o.slo.by for o in found)

    def carries(name: str, label: str) -> bool:
        """SLO series (and the SLO alerts in ALERTS) carry the SLO's `by` labels: never an instance."""
        if name.startswith("slo:") or name == "ALERTS":
            return label == "job" and by_job
        return model.catalog.carries(name, label)

    return [dashboard_json(model, "slos", dashboard, carries=carries)]


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
