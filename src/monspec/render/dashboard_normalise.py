"""The one step between grafanalib's output and the dashboard file: Grafana's current model.

grafanalib (the builder users know) still writes the Angular-era keys Grafana no longer
reads, and nulls for every unset option; Grafana's own dashboard schema rejects both, and
Grafana fills in (and then reports as a change) every option a panel plugin has a default
for. `normalise_json` removes the legacy keys, drops the nulls (except a threshold step's
`value: null`, which is how Grafana writes -Infinity), converts the legacy table cell
display mode, and writes the plugin defaults explicitly, for the Grafana version the
project targets (its schemaVersion, so Grafana does not migrate the model on load).
"""
from __future__ import annotations

import copy
import json
from typing import Any

from monspec.spec.models import GRAFANA_SCHEMA_VERSIONS

LEGACY_DASHBOARD_KEYS = ("__inputs", "hideControls", "rows", "sharedCrosshair", "style", "gnetId",
                         "id", "version")  # id and version belong to one Grafana instance, not the spec
LEGACY_PANEL_KEYS = ("editable", "error", "height", "span", "minSpan", "columns", "fontSize", "color", "mappings")
LEGACY_VARIABLE_KEYS = ("useTags", "tagsQuery", "tagValuesQuery")
INTERVAL_VARIABLE_KEYS = ("auto", "auto_count", "auto_min")  # only an interval variable has them
ROW_KEYS = ("type", "collapsed", "title", "datasource", "gridPos", "id", "panels", "repeat")  # Grafana's RowPanel

# The options Grafana's panel plugins fill in on load, per panel type (existing values win).
PANEL_OPTIONS: dict[str, dict[str, Any]] = {
    "timeseries": {"legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True},
                   "tooltip": {"mode": "single", "sort": "none"}},
    "stat": {"colorMode": "value", "graphMode": "area", "justifyMode": "auto", "orientation": "auto",
             "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "showPercentChange": False,
             "text": {}, "textMode": "auto", "wideLayout": True},
    "table": {"cellHeight": "sm", "footer": {"countRows": False, "reducer": ["sum"], "show": False},
              "frameIndex": 0, "showHeader": True, "showTypeIcons": False},
    "heatmap": {"showValue": "auto"},
}
# Options a Grafana version added, written only for that version and later.
VERSION_OPTIONS: dict[str, dict[str, dict[str, Any]]] = {"11.6": {"stat": {"percentChangeColorMode": "standard"}, "heatmap": {"selectionMode": "x"}}}
PANEL_CUSTOM: dict[str, dict[str, Any]] = {
    "timeseries": {"axisBorderShow": False, "axisCenteredZero": False, "axisColorMode": "text",
                   "insertNulls": False, "stacking": {"group": "A", "mode": "none"}},
    "table": {"align": "auto", "inspect": False},
}
COLOR_MODE = {"stat": "thresholds", "table": "thresholds", "timeseries": "palette-classic"}


def normalise_json(text: str, version: str) -> dict:
    """The dashboard (grafanalib's JSON text) as Grafana `version` stores it: no legacy keys, no
    nulls, every default written. The nulls go as the text is parsed, not in a pass of their own."""
    data = json.loads(text, object_hook=_without_nulls)
    for key in LEGACY_DASHBOARD_KEYS:
        data.pop(key, None)
    data["schemaVersion"] = GRAFANA_SCHEMA_VERSIONS[version]
    data.setdefault("fiscalYearStartMonth", 0)
    timepicker = data.get("timepicker", {})
    timepicker.pop("time_options", None)  # Grafana 11 dropped the setting (schemaVersion 41 migration)
    for variable in data.get("templating", {}).get("list", []):
        for key in LEGACY_VARIABLE_KEYS + (() if variable.get("type") == "interval" else INTERVAL_VARIABLE_KEYS):
            variable.pop(key, None)
        variable.get("current", {}).pop("tags", None)
    for panel in data.get("panels", []):
        _panel(panel, version)
        for inner in panel["panels"] if panel["type"] == "row" else []:
            _panel(inner, version)
    return data


def _panel(panel: dict, version: str) -> None:
    kind = panel["type"]
    if kind == "row":
        for key in set(panel) - set(ROW_KEYS):
            del panel[key]
        panel.setdefault("collapsed", False)
        panel.setdefault("panels", [])
        return
    for key in LEGACY_PANEL_KEYS:
        panel.pop(key, None)
    options = panel.setdefault("options", {})
    _fill(options, PANEL_OPTIONS.get(kind, {}))
    _fill(options, VERSION_OPTIONS.get(version, {}).get(kind, {}))
    field_config = panel.setdefault("fieldConfig", {})
    field_config.setdefault("overrides", [])
    defaults = field_config.setdefault("defaults", {})
    defaults.setdefault("mappings", [])
    if kind in COLOR_MODE:
        defaults.setdefault("color", {"mode": COLOR_MODE[kind]})
    custom = defaults.setdefault("custom", {})
    if kind == "table" and custom.get("displayMode") == "auto":  # the pre-10 cell mode; auto is today's default
        del custom["displayMode"]
    _fill(custom, PANEL_CUSTOM.get(kind, {}))
    if kind == "stat" and not custom:
        del defaults["custom"]  # the stat plugin has no custom field config


def _fill(target: dict, defaults: dict) -> None:
    for key, value in defaults.items():
        if key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(target[key], dict):
            _fill(target[key], value)


def _without_nulls(mapping: dict) -> dict:
    """The mapping without its nulls, except a threshold step's base `value: null` (-Infinity)."""
    if None not in mapping.values():
        return mapping
    is_step = mapping.keys() == {"color", "value"}
    return {k: v for k, v in mapping.items() if v is not None or (is_step and k == "value")}
