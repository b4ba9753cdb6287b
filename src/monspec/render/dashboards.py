"""Grafana dashboards (generated/grafana/dashboards/<uid>.json) with grafanalib.

Current panel types only (timeseries, stat, heatmap, table), a `datasource` variable every
panel and target uses, and multi-select `job` / `instance` variables every selector is
filtered on. Colour steps, the description and the links of a panel come from the KPI when
a target names one (`kpi:`; the runbook section and the alert rule of each of its
alerts), from the spec otherwise. For incidents every dashboard shows the spec set's
firing alerts as annotations (the `ALERTS` series) and opens with an "Alerts" row: one
state tile per alert (OK / pending / firing). grafanalib builds the model;
`dashboard_normalise.normalise_json` then makes it the model the target Grafana version stores.
"""
from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from typing import Any

import attr
from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from monspec import promql
from monspec.errors import MonspecError
from monspec.model import Model
from monspec.model.catalog import Catalog
from monspec.model.rules import AlertRule
from monspec.render import jsontext
from monspec.render.dashboard_normalise import normalise_json
from monspec.spec import SpecSet
from monspec.spec.dashboards import Dashboard, Panel, Target, lintable
from monspec.spec.models import Kpi
from monspec.spec.thresholds import Range, Threshold

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
TARGET_FILTERS = (("job", "$job"), ("instance", "$instance"))
SIZES = {"stat": (6, 4), "timeseries": (12, 8), "heatmap": (12, 8), "table": (12, 8)}
GRID_COLUMNS = 24
# The alert state tiles: ALERTS gives 2 for firing, 1 for pending, 0 when neither.
STATE_QUERY = ('max(ALERTS{{alertname="{name}", alertstate="firing"}}) * 2'
               ' or max(ALERTS{{alertname="{name}", alertstate="pending"}}) or vector(0)')
STATES = ((0, "OK", "green"), (1, "Pending", "orange"), (2, "Firing", "red"))
STATE_TILE = (4, 2)  # width, height of one alert's tile
BUILTIN_ANNOTATIONS = {
    "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
    "target": {"limit": 100, "matchAny": False, "tags": [], "type": "dashboard"}, "type": "dashboard",
}
# Worst to best, for a list of n colour steps (n values give n + 1 colours).
LADDERS = {1: ["red", "green"], 2: ["red", "yellow", "green"], 3: ["red", "orange", "yellow", "green"]}
# Grafana unit ids a panel may name, and the catalog's units they stand for.
GRAFANA_UNITS = (
    "percentunit", "percent", "s", "ms", "µs", "ns", "ops", "opm", "reqps", "rps", "wps", "iops",
    "bytes", "decbytes", "bits", "bool", "bool_yes_no", "bool_on_off", "short", "none",
)
CATALOG_UNITS = {
    "ratio": "percentunit", "percent": "percent", "seconds": "s", "bytes": "bytes", "ops": "ops",
    "operations": "short", "keys": "short", "entries": "short", "errors": "short", "connections": "short",
    "cycles": "short", "info": "none", "bool": "bool", "none": "none",
}


def grafana_unit(unit: str | None) -> str | None:
    """The Grafana unit id for a spec unit (a Grafana id or a catalog unit); None when unknown or unset."""
    if unit is None:
        return None
    if unit in GRAFANA_UNITS:
        return unit
    return CATALOG_UNITS.get(unit)


def known_units() -> list[str]:
    return sorted(set(GRAFANA_UNITS) | set(CATALOG_UNITS))


def stable_uid(text: str) -> str:
    """A Grafana uid from a name: lower-case words joined by `-`, at most 40 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
    if len(slug) <= 40:
        return slug
    digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
    return f"{slug[:31].rstrip('-')}-{digest}"


def dashboard_uid(project_name: str, key: str, dashboard: Dashboard) -> str:
    return dashboard.uid or stable_uid(f"{project_name}-{key}")


def render(model: Model) -> dict[str, str]:
    specs = model.specs
    out = {}
    for key, dashboard in sorted(specs.dashboards.items()):
        data = dashboard_json(model, key, dashboard)
        out[f"grafana/dashboards/{data['uid']}.json"] = jsontext.dumps(data) + "\n"
    return out


def dashboard_json(model: Model, key: str, dashboard: Dashboard, version: str | None = None, carries=None) -> dict:
    """The dashboard model as Grafana `version` (default: the project's) stores it; built once per
    model and dashboard for the project's version (lint's model check and the renderer both ask)."""
    if version is not None or carries is not None:
        return _dashboard_json(model, key, dashboard, version, carries)
    built = model.memo.setdefault(__name__, {})
    if key not in built or built[key][0] is not dashboard:
        built[key] = (dashboard, _dashboard_json(model, key, dashboard))
    return built[key][1]


def _dashboard_json(model: Model, key: str, dashboard: Dashboard, version: str | None = None, carries=None) -> dict:
    specs = model.specs
    project = specs.project
    alerts = model.placement.tiles.get(key, [])
    overview, top = _overview(alerts, len(dashboard.panels) + 1)
    positions = [{**pos, "y": pos["y"] + top} for pos in layout(dashboard.panels)]
    by_kpi = _alerts_by_kpi(model)
    panels = overview + [_panel(specs, model.catalog, by_kpi, panel, i + 1, pos, carries)
                         for i, (panel, pos) in enumerate(zip(dashboard.panels, positions, strict=True))]
    built = g.Dashboard(
        title=dashboard.title,
        uid=dashboard_uid(project.name, key, dashboard),
        description=dashboard.description,
        tags=list(dashboard.tags),
        refresh=dashboard.refresh,
        time=g.Time(dashboard.time.from_, dashboard.time.to),
        timezone=dashboard.timezone,
        schemaVersion=project.grafana.schema_version,
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        editable=project.grafana.allow_ui_updates,
        templating=g.Templating(_variables(project, dashboard)),
        annotations=g.Annotations([BUILTIN_ANNOTATIONS] + ([_alert_annotation(alerts)] if alerts else [])),
        panels=panels,
    )
    data = normalise_json(json.dumps(built.to_json_data(), cls=DashboardEncoder), version or project.grafana.version)
    for variable in data["templating"]["list"]:  # grafanalib writes a multi-select's current value as a string
        if variable["name"] == "job":
            job = _dashboard_job(project, dashboard)
            variable["current"] = {"selected": True, "text": [job], "value": [job]}
        if variable["name"] == "instance":
            variable["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return data


def _alerts_by_kpi(model: Model) -> dict[str, list[tuple[int, AlertRule]]]:
    """The alerts on each KPI with their place in rules.yml, built once per model: a panel's links
    then cost its KPIs' alerts, not every alert of the spec set."""
    key = f"{__name__}.by_kpi"
    if key not in model.memo:
        index: dict[str, list[tuple[int, AlertRule]]] = {}
        for i, alert in enumerate(model.all_alert_rules):
            if alert.kpi is not None:
                index.setdefault(alert.kpi.name, []).append((i, alert))
        model.memo[key] = index
    return model.memo[key]


def _alert_annotation(alerts: list[AlertRule]) -> dict:
    """The dashboard's alerts firing, from the datasource's ALERTS series, on every time panel.

    Only `expr`: the title/text/tag formats are not in Grafana 10.4's annotation kind, nor in
    the typed model of grafana-foundation-sdk 11.6 (a decoder drops them); Grafana then shows
    the series' labels (alertname, severity, …) on each annotation.
    """
    names = "|".join(re.escape(a.name) for a in alerts)
    return {"datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": "red", "name": "Firing alerts",
            "expr": f'ALERTS{{alertstate="firing", alertname=~"{names}"}}'}


def _overview(alerts: list[AlertRule], first_id: int) -> tuple[list, int]:
    """An "Alerts" row with a state tile for each of the dashboard's alerts (monspec.model.placement),
    then the row of the spec's panels; and their height."""
    if not alerts:
        return [], 0
    width, height = STATE_TILE
    per_row = GRID_COLUMNS // width
    tiles_height = height * -(-len(alerts) // per_row)
    state = g.Stat(
        id=first_id + 1, title="Alert states", dataSource=DATASOURCE,
        description="The alerts on what this dashboard shows (their own series or KPI), its scrape job's absence "
                    "alerts, and on a component's first dashboard the alerts no dashboard shows: OK, pending (its "
                    "condition holds, `for` has not passed) or firing, from the ALERTS series of the data source.",
        targets=[{"datasource": DATASOURCE, "editorMode": "code", "expr": STATE_QUERY.format(name=a.name),
                  "format": "time_series", "instant": True, "legendFormat": a.name, "range": False,
                  "refId": _ref(i)} for i, a in enumerate(alerts)],
        gridPos=g.GridPos(h=tiles_height, w=GRID_COLUMNS, x=0, y=1), reduceCalc="lastNotNull", graphMode="none",
        colorMode="background", textMode="value_and_name", format="none", maxDataPoints=None,
        mappings=[g.StatValueMappings(*[g.StatValueMappingItem(text, str(value), color) for value, text, color in STATES])],
        thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1}, {"color": "red", "value": 2}])
    rows = [g.RowPanel(id=first_id, title="Alerts", gridPos=g.GridPos(h=1, w=GRID_COLUMNS, x=0, y=0)), state,
            g.RowPanel(id=first_id + 2, title="Panels", gridPos=g.GridPos(h=1, w=GRID_COLUMNS, x=0, y=tiles_height + 1))]
    return rows, tiles_height + 2


def _links(by_kpi: dict[str, list[tuple[int, AlertRule]]], kpis: list) -> list[dict]:
    """The runbook section and the alert rule of every alert on the panel's KPIs, in alert order."""
    links: list[dict] = []
    for _, alert in sorted((entry for name in {k.name for k in kpis} for entry in by_kpi.get(name, ())),
                           key=lambda entry: entry[0]):
        for title, url in ((f"Runbook: {alert.name}", alert.annotations["runbook_url"]),
                           (f"Alert rule: {alert.name}", "/alerting/list?search=" + urllib.parse.quote(f"rule:{alert.name}"))):
            links.append({"asDropdown": False, "icon": "external link", "includeVars": False, "keepTime": False,
                          "tags": [], "targetBlank": True, "title": title, "tooltip": "", "type": "link", "url": url})
    return links


def _dashboard_job(project, dashboard: Dashboard) -> str:
    """The job the `$job` variable starts at: the dashboard's component's, else the project's first."""
    jobs = project.scrape_jobs
    component = dashboard.component or project.default_component
    return jobs[component].job if component in jobs else next(iter(jobs.values())).job


def _variables(project, dashboard: Dashboard) -> list:
    """Data source, job (starting at the dashboard's component's job) and instance."""
    job = _dashboard_job(project, dashboard)
    query = {"type": "prometheus", "uid": "${datasource}"}
    return [
        g.Template(name="datasource", label="Data source", query="prometheus", type="datasource",
                   default=project.datasource),
        g.Template(name="job", label="Job", query="label_values(up, job)", dataSource=query,
                   default=job, includeAll=True, multi=True, allValue=".+",
                   refresh=g.REFRESH_ON_TIME_RANGE_CHANGE, sort=g.SORT_ALPHA_ASC),
        g.Template(name="instance", label="Instance", query='label_values(up{job=~"$job"}, instance)',
                   dataSource=query, default="$__all", includeAll=True, multi=True, allValue=".+",
                   refresh=g.REFRESH_ON_TIME_RANGE_CHANGE, sort=g.SORT_ALPHA_ASC),
    ]


def layout(panels: list[Panel]) -> list[dict]:
    """Left-to-right, top-to-bottom flow on Grafana's 24-column grid; rows never overlap."""
    positions, x, y, row_height = [], 0, 0, 0
    for panel in panels:
        width, height = SIZES[panel.panel_type]
        width, height = panel.width or width, panel.height or height
        if x + width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        positions.append({"h": height, "w": width, "x": x, "y": y})
        x += width
        row_height = max(row_height, height)
    return positions


def filtered(expr: str, carries=None) -> str:
    """The expression with `job=~"$job", instance=~"$instance"` in every selector that does not fix them.
    A selector of series that carry no `instance` (recorded `by (job)`) gets no instance filter: with
    the variable at All (`.+`) it would hide them. `carries(name, label)` says which do (default: all)."""
    def wanted(selector) -> list[str]:
        have = {m.name for m in selector.matchers}
        return [f'{label}=~"{value}"' for label, value in TARGET_FILTERS if label not in have
                and (carries is None or selector.name is None or carries(selector.name, label))]

    try:
        return promql.with_matchers(expr, wanted, lintable(expr))
    except ValueError as exc:
        raise MonspecError(str(exc)) from None


def target_steps(specs: SpecSet, target: Target) -> list[dict] | None:
    kpi = target.kpi_of(specs.kpis)
    if kpi is not None:
        return kpi_steps(kpi)
    if target.thresholds:
        return list_steps(target.thresholds)
    return None


def list_steps(values: list[float]) -> list[dict]:
    """The guide's colour steps, worst first: ascending when higher is better, descending when lower is."""
    ladder = LADDERS[len(values)]
    ordered = sorted(values)
    if values != ordered:  # descending: lower is better, so green at the bottom
        ladder = list(reversed(ladder))
    return [{"color": ladder[0], "value": None}] + [{"color": c, "value": v} for c, v in zip(ladder[1:], ordered, strict=False)]


def kpi_steps(kpi: Kpi) -> list[dict] | None:
    """Colours from a KPI's levels: critical red, warning orange, short of target yellow, else green."""
    levels = [t for t in (kpi.critical, kpi.warning, kpi.target) if t is not None]
    bounds = sorted({v for t in levels for v in ((t.low, t.high) if isinstance(t, Range) else (t.value,))})
    if not bounds:
        return None

    def color(x: float) -> str:
        if kpi.critical is not None and kpi.critical.holds(x):
            return "red"
        if kpi.warning is not None and kpi.warning.holds(x):
            return "orange"
        if kpi.target is not None and not kpi.target.holds(x):
            return "yellow"
        return "green"

    discrete = any(isinstance(t, Threshold) and t.op in ("==", "!=") for t in levels)
    if discrete:  # a bool: colour each value itself
        samples, starts = bounds, bounds[1:]
    else:  # one sample inside each zone between bounds
        samples = [bounds[0] - max(1.0, abs(bounds[0]))]
        samples += [(b + n) / 2 for b, n in zip(bounds, bounds[1:], strict=False)] + [bounds[-1] + max(1.0, abs(bounds[-1]))]
        starts = bounds
    steps: list[dict[str, Any]] = [{"color": color(samples[0]), "value": None}]
    for start, sample in zip(starts, samples[1:], strict=False):
        if color(sample) != steps[-1]["color"]:
            steps.append({"color": color(sample), "value": start})
    return steps


def _target_json(specs: SpecSet, target: Target, ref: str, panel: Panel, catalog: Catalog, carries=None) -> dict:
    fmt = target.format or {"heatmap": "heatmap", "table": "table"}.get(panel.panel_type, "time_series")
    instant = target.instant if target.instant is not None else panel.panel_type == "table"
    return {
        "datasource": DATASOURCE,
        "editorMode": "code",
        "expr": filtered(_query(specs, target), carries or catalog.carries),
        "format": fmt,
        "instant": instant,
        "legendFormat": target.legend or "__auto",
        "range": not instant,
        "refId": ref,
    }


def _query(specs: SpecSet, target: Target) -> str:
    query = target.query(specs.kpis)
    if query is None:
        raise MonspecError(f"unknown KPI `{target.kpi}`")  # lint's dashboard/unknown-kpi stops a build before
    return query


def _ref(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"Q{i}"


def panel_kpis(specs: SpecSet, panel: Panel) -> list[Kpi]:
    """The KPIs a panel's targets show, in target order."""
    kpis: dict[str, Kpi] = {}
    for target in panel.targets:
        kpi = target.kpi_of(specs.kpis)
        if kpi is not None:
            kpis.setdefault(kpi.name, kpi)
    return list(kpis.values())


def panel_description(specs: SpecSet, panel: Panel) -> str:
    """The spec's description, else the descriptions of the KPIs it shows."""
    return panel.description or " ".join(f"{k.description.rstrip('.')}." for k in panel_kpis(specs, panel))


def _panel(specs: SpecSet, catalog: Catalog, by_kpi: dict[str, list[tuple[int, AlertRule]]], panel: Panel, panel_id: int, pos: dict,
           carries=None):
    """`carries(name, label)`: which target labels a series has, when the catalog does not know it."""
    targets = [_target_json(specs, t, _ref(i), panel, catalog, carries) for i, t in enumerate(panel.targets)]
    units = [grafana_unit(t.unit) or grafana_unit(panel.unit) for t in panel.targets]
    unit = grafana_unit(panel.unit) or (units[0] if units else None) or ""
    steps = [target_steps(specs, t) for t in panel.targets]
    overrides: list[dict[str, Any]] = []
    default_steps = None
    if panel.panel_type in ("stat", "table"):
        distinct = {json.dumps(s) for s in steps if s is not None}
        if len(distinct) == 1 and all(s is not None for s in steps):
            default_steps = steps[0]
    for i, target in enumerate(panel.targets):
        properties: list[dict[str, Any]] = []
        if units[i] and units[i] != unit:
            properties.append({"id": "unit", "value": units[i]})
        if target.yAxes == "right" and panel.panel_type == "timeseries":
            properties.append({"id": "custom.axisPlacement", "value": "right"})
        if panel.panel_type in ("stat", "table") and steps[i] is not None and default_steps is None:
            properties.append({"id": "thresholds", "value": {"mode": "absolute", "steps": steps[i]}})
        if properties:
            overrides.append({"matcher": {"id": "byFrameRefID", "options": targets[i]["refId"]}, "properties": properties})
    description = panel_description(specs, panel)
    common = dict(
        id=panel_id, title=panel.title, dataSource=DATASOURCE, targets=targets, gridPos=_grid(pos),
        description=description or None, timeFrom=panel.timespan, maxDataPoints=None,
        links=_links(by_kpi, panel_kpis(specs, panel)),
    )
    if panel.panel_type == "timeseries":
        lines = [(_line_value(specs, line), line) for line in panel.thresholds]
        if lines:
            text = "; ".join(f"{line.label or 'threshold'} at {value:g} ({line.color})" for value, line in lines)
            common["description"] = (description + "\n\n" if description else "") + f"Threshold lines: {text}."
        line_steps = [{"color": "transparent", "value": None}] + [
            {"color": line.color, "value": value} for value, line in sorted(lines, key=lambda item: item[0])]
        return g.TimeSeries(**common, unit=unit, overrides=overrides, legendDisplayMode="list",
                            tooltipMode="multi", thresholds=line_steps if lines else [{"color": "green", "value": None}],
                            thresholdsStyleMode="line" if lines else "off")
    if panel.panel_type == "stat":
        return g.Stat(**common, format=unit, overrides=overrides, reduceCalc="lastNotNull", graphMode="area",
                      colorMode="value", textMode="value_and_name" if len(targets) > 1 else "auto",
                      thresholds=default_steps or [{"color": "green", "value": None}])
    if panel.panel_type == "table":
        return g.Table(**common, unit=unit, overrides=overrides,
                       thresholds=default_steps or [{"color": "green", "value": None}],
                       transformations=[_table_columns(panel, targets)],
                       sortBy=[g.TableSortByField(displayName=_value_column(panel, 0), desc=True)] if targets else [])
    return _Heatmap(**common, unit=unit)


def _value_column(panel: Panel, i: int) -> str:
    legend = panel.targets[i].legend
    return legend or ("Value" if len(panel.targets) == 1 else f"Value #{_ref(i)}")


def _table_columns(panel: Panel, targets: list[dict]) -> dict:
    """Hide the timestamp of instant results; name each value column after its target's legend."""
    rename = {}
    for i, target in enumerate(panel.targets):
        if target.legend:
            rename["Value" if len(targets) == 1 else f"Value #{_ref(i)}"] = target.legend
    return {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": {}, "renameByName": rename}}


def _line_value(specs: SpecSet, line) -> float:
    if line.kpi is None:
        return line.value
    threshold = getattr(specs.kpis[line.kpi], line.level)
    return threshold.value


def _grid(pos: dict) -> g.GridPos:
    return g.GridPos(h=pos["h"], w=pos["w"], x=pos["x"], y=pos["y"])


@attr.s
class _Heatmap(g.Panel):
    """grafanalib's Heatmap is the pre-9 (Angular-era) model; this is Grafana's current heatmap panel."""

    unit = attr.ib(default="")

    def to_json_data(self):
        return self.panel_json({
            "type": "heatmap",
            "fieldConfig": {"defaults": {"custom": {"hideFrom": {"legend": False, "tooltip": False, "viz": False},
                                                    "scaleDistribution": {"type": "linear"}}},
                            "overrides": []},
            "options": {
                "calculate": False,
                "cellGap": 1,
                "color": {"exponent": 0.5, "fill": "dark-orange", "mode": "scheme", "reverse": False,
                          "scale": "exponential", "scheme": "Oranges", "steps": 64},
                "exemplars": {"color": "rgba(255,0,255,0.7)"},
                "filterValues": {"le": 1e-09},
                "legend": {"show": True},
                "rowsFrame": {"layout": "auto"},
                "tooltip": {"mode": "single", "showColorScale": False, "yHistogram": False},
                "yAxis": {"axisPlacement": "left", "reverse": False, "unit": self.unit},
            },
        })
