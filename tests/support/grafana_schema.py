"""Grafana's own authorities over a dashboard model, for tests (no Grafana server runs here).

- `schema_errors(dashboard, version)`: the dashboard kind's JSON Schema, each panel's plugin
  schema (`options`, `fieldConfig.defaults.custom`) and the prometheus query schema for every
  target, from the vendored copies in tests/data/grafana/<version>/ (see its README for
  provenance). Each error is one line: `<json path>: <message>`.
- `sdk_roundtrip_errors(dashboard)`: grafana-foundation-sdk's typed decoder (the 11.6 flavour,
  a dev dependency) decodes the model and encodes it again; what does not come back is listed,
  so a field the typed model does not know (and would drop) is an error too.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from jsonschema import Draft7Validator

DATA = Path(__file__).resolve().parents[1] / "data" / "grafana"
VERSIONS = ("v11.6", "v10.4")
PLUGINS = ("timeseries", "stat", "table", "heatmap")
# Fields that are `any` in Grafana's CUE kinds but narrowed to objects by the JSON Schema generator.
RELAXED = (("MatcherConfig", "options"), ("DynamicConfigValue", "value"))
# v10.4's generator also dropped the `null` of `Threshold.value` that its CUE and its own description
# have ("Nulls currently appear here when serializing -Infinity to JSON"); v11.6 has it back.
NULLABLE = {"v10.4": (("Threshold", "value"),)}


@functools.cache
def _schema(version: str, name: str) -> dict:
    schema = json.loads((DATA / version / f"{name}.jsonschema.json").read_text(encoding="utf-8"))
    definitions = schema["definitions"]
    for definition, field in RELAXED:
        if definition in definitions:
            definitions[definition]["properties"][field] = {}
    for definition, field in NULLABLE.get(version, ()):
        if definition in definitions:
            definitions[definition]["properties"][field] = {"anyOf": [definitions[definition]["properties"][field],
                                                                      {"type": "null"}]}
    return schema


@functools.cache
def _validator(version: str, name: str, definition: str | None = None) -> Draft7Validator:
    schema = _schema(version, name)
    if definition is not None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    return Draft7Validator(schema)


def _errors(validator: Draft7Validator, data, prefix: str) -> list[str]:
    found = []
    for error in sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        found.append(f"{prefix}{path}: {error.message}")
    return found


def panels(dashboard: dict):
    """Every panel with its JSON path, the panels inside rows included."""
    for i, panel in enumerate(dashboard.get("panels") or []):
        yield f"$.panels[{i}]", panel
        for j, inner in enumerate(panel.get("panels") or [] if panel.get("type") == "row" else []):
            yield f"$.panels[{i}].panels[{j}]", inner


def schema_errors(dashboard: dict, version: str) -> list[str]:
    # Panels one by one against Panel or RowPanel: the kind's `oneOf` would report a failing
    # panel as one unreadable line.
    errors = _errors(_validator(version, "dashboard"), {**dashboard, "panels": []}, "$")
    for path, panel in panels(dashboard):
        kind = panel.get("type")
        errors += _errors(_validator(version, "dashboard", "RowPanel" if kind == "row" else "Panel"), panel, path)
        if kind == "row":
            continue
        if kind not in PLUGINS:
            errors.append(f"{path}.type: no vendored plugin schema for panel type {kind!r}")
            continue
        definitions = _schema(version, kind)["definitions"]
        if "options" in panel:
            errors += _errors(_validator(version, kind, "Options"), panel["options"], f"{path}.options")
        custom = (panel.get("fieldConfig") or {}).get("defaults", {}).get("custom")
        if custom is not None:
            if "FieldConfig" in definitions:
                errors += _errors(_validator(version, kind, "FieldConfig"), custom, f"{path}.fieldConfig.defaults.custom")
            elif custom != {}:
                errors.append(f"{path}.fieldConfig.defaults.custom: the {kind} plugin has no custom field config")
        for k, target in enumerate(panel.get("targets") or []):
            errors += _errors(_validator(version, "prometheus"), target, f"{path}.targets[{k}]")
    return errors


def sdk_roundtrip_errors(dashboard: dict) -> list[str]:
    """Decode with grafana-foundation-sdk, encode again; every difference is a field it cannot hold."""
    from grafana_foundation_sdk.cog import plugins
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    plugins.register_default_plugins()
    try:
        decoded = Dashboard.from_json(dashboard)
        encoded = json.loads(json.dumps(decoded, cls=JSONEncoder))
    except Exception as exc:  # the decoder's own failure is the finding
        return [f"$: decoder failed: {type(exc).__name__}: {exc}"]
    return diff(dashboard, encoded)


def diff(before, after, path: str = "$") -> list[str]:
    """Paths where `after` lost or changed something of `before` (defaults it adds are not losses)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            if key not in after:
                found.append(f"{path}.{key}: dropped")
            elif key not in before:
                continue
            else:
                found += diff(before[key], after[key], f"{path}.{key}")
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [e for i, (b, a) in enumerate(zip(before, after, strict=True)) for e in diff(b, a, f"{path}[{i}]")]
    if before != after or type(before) is not type(after):
        return [f"{path}: {json.dumps(before)[:60]} became {json.dumps(after)[:60]}"]
    return []
