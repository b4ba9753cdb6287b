"""generated/docs/alerts.md: the runbook every alert's `runbook_url` points at.

One section per alert of rules.yml (severity, expression, `for`, meaning, impact, the
troubleshooting steps, the dashboards that show it, the receiver it reaches), headed by
the alert's name so that its anchor is `model.rules.anchor(name)`; then the KPI table with
thresholds, and the lint checks that specs turned off, with their reasons.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from monspec.model import Model
from monspec.model.inhibition import Muting, inhibit_rules
from monspec.model.objective import Objective, decimal_text, percent_text
from monspec.model.rules import AlertRule, anchor
from monspec.render.templates import render_template
from monspec.spec import SpecSet
from monspec.spec.models import Kpi

PATH = "docs/alerts.md"


def render(model: Model) -> dict[str, str]:
    return {PATH: render_markdown(model)}


def render_markdown(model: Model) -> str:
    """alerts.md through the project's `alerts.md.j2`, from Markdown-ready (escaped) fields."""
    specs = model.specs
    project = specs.project
    alerts = model.all_alert_rules
    own = [a for a in alerts if a.origin != "imported"]
    alerts_of: dict[str, list[str]] = {}
    for a in own:
        if a.kpi is not None:
            alerts_of.setdefault(a.kpi.name, []).append(a.name)
    inhibits = Muting(inhibit_rules(specs, alerts), alerts)
    receivers = {id(a): _receivers(specs, a) for a in alerts}  # the table and the section both show them
    text = render_template(
        specs, "alerts.md.j2",
        title=_text(project.title), project=project.name, runbook_base_url=_text(project.runbook_base_url),
        alerts=[{"name": a.name, "anchor": anchor(a.name), "severity": _cell(a.severity or "—"),
                 "for_": _cell(a.for_ or "—"), "receivers": _cell(", ".join(receivers[id(a)]) or "—")}
                for a in alerts],
        kpis=[_kpi_row(kpi, alerts_of.get(kpi.name, [])) for kpi in specs.kpis.values()],
        slos=_slos(model.objectives),
        own=[_section(model, i, receivers[id(a)], inhibits) for i, a in enumerate(alerts) if a.origin != "imported"],
        imported=[_section(model, i, receivers[id(a)], inhibits) for i, a in enumerate(alerts) if a.origin == "imported"],
        disabled=[{"where": _cell(where), "checks": ", ".join(_code(c, table=True) for c in checks), "reason": _cell(reason)}
                  for where, checks, reason in _lint_disables(specs)],
    )
    return text.rstrip("\n") + "\n"


def _kpi_row(kpi: Kpi, alert_names: list[str]) -> dict[str, str]:
    levels = {name: _cell(str(v)) if v is not None else "—"
              for name, v in (("target", kpi.target), ("goal", kpi.goal), ("warning", kpi.warning), ("critical", kpi.critical))}
    return {"title": _cell(kpi.display_title), "expr": _code(kpi.expr.strip(), table=True), **levels,
            "for_": _cell(kpi.for_), "alerts": ", ".join(f"[{n}](#{anchor(n)})" for n in alert_names) or "—"}


def _slos(found: Sequence[Objective]) -> dict[str, Any] | None:
    """The SLO table's Markdown-ready rows, and the first SLO's first alert as the example (None: no SLOs)."""
    if not found:
        return None
    first = found[0]
    example = None
    if first.burn_alerts:
        alert, slo = first.burn_alerts[0], first.slo
        example = (f"`{first.name}` (objective {decimal_text(slo.objective)}% over {slo.window}, budget "
                   f"{percent_text(first.budget)}): [{alert.rule.name}](#{anchor(alert.rule.name)}) fires while more "
                   f"than {percent_text(alert.threshold)} of events are bad (failed, or slower than the SLI allows) "
                   f"over the last {alert.window.long} and the last {alert.window.short} "
                   f"({decimal_text(Decimal(str(alert.window.factor)))}x the budget)")
    rows = []
    for objective in found:
        slo = objective.slo
        sli = slo.sli
        if sli.ratio is not None:
            what = f"{'errors' if sli.ratio.errors else 'good'} {_code((sli.ratio.errors or sli.ratio.good or '').strip(), table=True)} of {_code(sli.ratio.total.strip(), table=True)}"
        elif sli.latency is not None:
            what = f"{_code(sli.latency.histogram.strip(), table=True)} at or under {sli.latency.le:g} s"
        else:
            what = _code((sli.raw.error_ratio if sli.raw else "").strip(), table=True)
        rows.append({"title": _cell(slo.display_title), "sli": what, "objective": f"{decimal_text(slo.objective)}%",
                     "window": _cell(slo.window), "owner": _cell(slo.owner or "—"),
                     "alerts": ", ".join(f"[{a.rule.name}](#{anchor(a.rule.name)})" for a in objective.burn_alerts) or "—"})
    return {"example": example, "rows": rows}


def _section(model: Model, position: int, receivers: list[str], inhibits: Muting) -> dict[str, Any]:
    """One alert's runbook section as Markdown-ready fields (None: left out)."""
    specs = model.specs
    alert = model.placement.alerts[position]
    facts = [f"**Severity:** {_cell(alert.severity or 'none')}", f"**For:** {_cell(alert.for_ or '0s (fires at once)')}"]
    if alert.keep_firing_for:
        facts.append(f"**Keeps firing for:** {_cell(alert.keep_firing_for)}")
    if alert.kpi is not None and alert.threshold is not None:
        facts.append(f"**KPI:** {_cell(alert.kpi.display_title)} {alert.level} {_cell(str(alert.threshold))}")
    summary = alert.annotations.get("summary")
    boards = [(model.dashboards[key].title, panels) for key, panels in model.placement.panels[position]]
    routing = specs.routing
    muted: list[str] = []
    if receivers and routing is not None:
        kinds = [", ".join(kind for kind, _ in routing.receivers[r].integrations()) if r in routing.receivers else "" for r in receivers]
        receiver = ", ".join(f"`{r}`" + (f" ({k})" if k else " (no notification)") for r, k in zip(receivers, kinds, strict=False))
        muted = [rule.description or "an inhibit rule" for rule in inhibits.muting(alert)]
    else:
        receiver = "none (no `routing:` in the specs)"
    labels = ", ".join(f"`{k}={v}`" if "`" not in f"{k}={v}" else _code(f"{k}={v}") for k, v in alert.labels.items())
    lint = getattr(alert.entity, "lint", None)
    return {
        "name": alert.name,
        "facts": " · ".join(facts),
        "summary": _code(summary) if summary else None,
        "expr": "\n".join(["```promql", *alert.expr.strip().split("\n"), "```"]) if "```" not in alert.expr else _code(alert.expr),
        "description": _prose(alert.description.strip()) or None,
        "impact": _prose(alert.impact.strip()) if alert.impact else None,
        "steps": [_prose(step) for step in alert.steps],
        "dashboards": "; ".join(f"{_cell(d)} → {', '.join(_cell(p) for p in panels)}" for d, panels in boards)
                      if boards else _unshown(model, position),
        "receiver": receiver,
        "muted": "; ".join(_cell(m) for m in muted) or None,
        "labels": labels or None,
        "lint": f"{', '.join(_code(c) for c in lint.disable)} — {_prose(lint.reason)}" if lint is not None else None,
    }


def _unshown(model: Model, position: int) -> str:
    """An alert no panel shows: where its state tile is instead (monspec.model.placement)."""
    homes = [_cell(model.dashboards[key].title) for key in model.placement.tiled_on[position]]
    return "none shows its metrics" + (f"; its state tile is on {', '.join(homes)}" if homes else "")


def _receivers(specs: SpecSet, alert: AlertRule) -> list[str]:
    if specs.routing is None:
        return []
    return specs.routing.receivers_for({**alert.labels, "alertname": alert.name})


def _lint_disables(specs: SpecSet):
    entities: list[tuple[str, Any]] = [(f"recording rule `{r.record}`", r) for r in specs.recording_rules]
    entities += [(f"KPI `{k.name}`", k) for k in specs.kpis.values()]
    entities += [(f"alert `{a.name}`", a) for a in specs.alerts.values()]
    for where, entity in entities:
        lint = getattr(entity, "lint", None)
        if lint is not None:
            yield where, lint.disable, lint.reason


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _code(text: str, table: bool = False) -> str:
    """An inline code span that holds any text (backticks, newlines; pipes escaped inside tables)."""
    text = " ".join(text.split("\n"))
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    return _prose(" ".join(str(text).split("\n")).replace("|", "\\|"))


def _prose(text: str) -> str:
    """Spec text as Markdown that shows it: a `<` that could open an HTML tag or comment is escaped, so
    `<script>` from a spec is printed, never run; everything else (lists, emphasis) stays Markdown."""
    return _TAG_START.sub("&lt;", text)


def _text(text: str) -> str:
    return _cell(text)
