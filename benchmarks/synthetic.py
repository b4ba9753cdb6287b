"""Synthetic spec sets: the bundled specs `copies` times over, every section multiplied.

Copy `i` renames every metric (`unified_*` -> `s{i}_unified_*`), KPI, alert, recording
rule, dashboard, profile and receiver, and routes its own alerts through a child route
matching its alert-name prefix (`S{i}…`), so routing, inhibition, dashboards and docs grow
with the copies exactly as the rules do. The one project and the process/python metrics
exist once, as they would for fifty services sharing one monspec repo.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "specs"


def _prefix(name: str, i: int) -> str:
    return f"s{i}_{name}"


def _alert_prefix(i: int) -> str:
    """The CamelCase start of copy i's alert names; `S1` must not match `S10…`."""
    return f"S{i}[A-Z].*"


def _renamed(text: str, i: int) -> str:
    return re.sub(r"\bunified_", f"s{i}_unified_", text)


def _rename_kpi_refs(node: Any, i: int) -> Any:
    """Every `kpi:` reference inside a structure (alerts, dashboard targets and threshold lines)."""
    if isinstance(node, dict):
        return {k: (_prefix(v, i) if k == "kpi" and isinstance(v, str) else _rename_kpi_refs(v, i))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_kpi_refs(v, i) for v in node]
    return node


def _sections(i: int) -> dict[str, Any]:
    """Copy i of every section but `project` and `routing`."""
    merged: dict[str, Any] = {}
    for path in sorted(SPECS.rglob("*.yaml")):
        if path.name in ("project.yaml", "routing.yaml"):
            continue
        data = yaml.safe_load(_renamed(path.read_text(), i)) or {}
        for key, value in data.items():
            if key == "metrics":
                value = {k: v for k, v in value.items() if i == 0 or k.startswith(f"s{i}_")}
            elif key in ("kpis", "alerts", "profiles"):
                value = {_prefix(k, i): _rename_kpi_refs(v, i) for k, v in value.items()}
            elif key == "dashboards":
                value = {_prefix(k, i): _dashboard(v, i) for k, v in value.items()}
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged.setdefault(key, []).extend(value)
    return merged


def _dashboard(board: dict, i: int) -> dict:
    board = _rename_kpi_refs(board, i)
    board["title"] = f"S{i} {board['title']}"
    if "uid" in board:
        board["uid"] = f"s{i}-{board['uid']}"[:40]
    return board


def _routing(copies: int) -> dict:
    """One root; per copy its receivers, a child route by alert-name prefix, and its inhibit rules."""
    base = yaml.safe_load((SPECS / "routing.yaml").read_text())["routing"]
    routing = {k: v for k, v in base.items() if k not in ("receivers", "routes", "inhibit")}
    routing["receiver"] = f"{base['receiver']}-s0"
    routing["receivers"], routing["routes"], routing["inhibit"] = {}, [], []
    for i in range(copies):
        rename = {name: f"{name}-s{i}" for name in base["receivers"]}
        routing["receivers"].update({rename[k]: copy.deepcopy(v) for k, v in base["receivers"].items()})
        children = [{**copy.deepcopy(r), "receiver": rename[r["receiver"]]} for r in base.get("routes", [])]
        routing["routes"].append({"match_re": {"alertname": _alert_prefix(i)}, "routes": children})
        for rule in copy.deepcopy(base.get("inhibit", [])):
            for side in ("source", "target"):
                named = rule.get(f"{side}_match", {})
                if "alertname" in named:
                    named["alertname"] = "S%d%s" % (i, named["alertname"])
                else:
                    rule.setdefault(f"{side}_match_re", {})["alertname"] = _alert_prefix(i)
            routing["inhibit"].append(rule)
    return routing


def write_specs(target: Path, copies: int) -> Path:
    """A spec folder with `copies` copies of everything; returns it."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "project.yaml").write_text((SPECS / "project.yaml").read_text())
    (target / "routing.yaml").write_text(yaml.safe_dump({"routing": _routing(copies)}, sort_keys=False))
    for i in range(copies):
        (target / f"copy{i:03}.yaml").write_text(yaml.safe_dump(_sections(i), sort_keys=False, allow_unicode=True))
    return target
