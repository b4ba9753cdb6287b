"""`verify`'s SLO section: each SLO's SLI and error budget read from its recordings in a live
Prometheus, judged the way its burn-rate alerts judge: CRITICAL while a page condition holds
(or the budget is spent), WARNING while a ticket condition holds, NO DATA without an SLI."""
from __future__ import annotations

import math
from dataclasses import dataclass

from monspec.model.objective import BUDGET_REMAINING, Objective, decimal_text, objectives, window_text
from monspec.spec import SpecSet


@dataclass
class SloReading:
    slo: str
    title: str
    objective: str  # "99.9%"
    window: str
    sli: float | None  # share of good events over the SLO window
    budget_remaining: float | None  # 1 = untouched, 0 = spent, below 0 = overspent
    fastest_burn: float | None  # the highest burn rate over the alert windows
    fastest_window: str
    status: str
    firing: list[str]  # burn-rate alerts whose condition holds now


def read_slos(specs: SpecSet, client) -> list[SloReading]:
    job = specs.project.job
    return [_read(objective, client, job) for objective in objectives(specs)]


def _value(client, expr: str, job: str | None) -> float | None:
    """The SLO series' value (of the project's job, when it has one job)."""
    samples = [value for labels, value in client.query(expr) if job is None or labels.get("job", job) == job]
    values = [v for v in samples if not math.isnan(v)]
    return max(values) if values else None  # one series per SLO; the worst when `by` splits it


def _read(objective: Objective, client, job: str | None) -> SloReading:
    slo = objective.slo
    budget = float(decimal_text(objective.budget))
    ratios = {w: _value(client, objective.series(objective.ratio_name(w)), job) for w in objective.windows}
    period = ratios[objective.window_seconds]
    remaining = _value(client, objective.series(BUDGET_REMAINING), job)
    burns = {w: r / budget for w, r in ratios.items() if r is not None and w != objective.window_seconds}
    fastest = max(burns, key=lambda w: burns[w]) if burns else None
    firing = []
    for alert in objective.burn_alerts:
        long, short = ratios.get(alert.long), ratios.get(alert.short)
        threshold = float(decimal_text(alert.threshold))
        if long is not None and short is not None and long > threshold and short > threshold:
            firing.append((alert.severity, alert.rule.name))
    if period is None:
        status = "NO DATA"
    elif any(sev == "page" for sev, _ in firing) or (remaining is not None and remaining <= 0):
        status = "CRITICAL"
    elif firing:
        status = "WARNING"
    else:
        status = "OK"
    return SloReading(objective.name, slo.display_title, f"{decimal_text(slo.objective)}%", slo.window,
                      None if period is None else 1 - period, remaining,
                      burns[fastest] if fastest is not None else None,
                      window_text(fastest) if fastest is not None else "-", status, [name for _, name in firing])


def slo_table(readings: list[SloReading]) -> list[str]:
    rows = [("SLO", "SLI", "OBJECTIVE", "WINDOW", "BUDGET LEFT", "FASTEST BURN", "STATUS")]
    for r in readings:
        sli = "-" if r.sli is None else f"{r.sli:.4%}"
        left = "-" if r.budget_remaining is None else f"{r.budget_remaining:.1%}"
        burn = "-" if r.fastest_burn is None else f"{r.fastest_burn:.3g}x over {r.fastest_window}"
        rows.append((r.slo, sli, r.objective, r.window, left, burn, r.status + (f" ({', '.join(r.firing)})" if r.firing else "")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
