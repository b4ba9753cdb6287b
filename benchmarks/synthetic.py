"""Synthetic spec sets: the bundled specs `copies` times over, every section multiplied.

Copy `i` renames every metric (`unified_*` -> `s{i}_unified_*`), KPI, alert, recording
rule, dashboard, profile and receiver, and routes its own alerts through a child route
matching its alert-name prefix (`S{i}…`), so routing, inhibition, dashboards and docs grow
with the copies exactly as the rules do. The one project and the process/python metrics
exist once, as they would for fifty services sharing one monspec repo; with `components`, each
copy is also a scrape job of its own.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from monspec.model.rules import camel

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "specs"


def _prefix(name: str, i: int) -> str:
    return f"s{i}_{name}"


def _alert_prefix(i: int) -> str:
    """The CamelCase start of copy i's alert names; `S1` must not match `S10…`."""
    return f"S{i}[A-Z].*"


def _renamed(text: str, i: int) -> str:
    return re.sub(r"\bunified_", f"s{i}_unified_", text)


# The keys whose value names another entry of the copy: a KPI (alerts, dashboard targets and
# threshold lines) or an alert (`parent:`).
_REFERENCES = ("kpi", "parent")


def _rename_refs(node: Any, i: int) -> Any:
    """Every reference to a KPI or alert inside a structure, renamed to copy i's."""
    if isinstance(node, dict):
        return {k: (_prefix(v, i) if k in _REFERENCES and isinstance(v, str) else _rename_refs(v, i))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, i) for v in node]
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
            elif key in ("kpis", "alerts", "profiles", "slos"):
                value = {_prefix(k, i): _rename_refs(v, i) for k, v in value.items()}
            elif key == "dashboards":
                value = {_prefix(k, i): _dashboard(v, i) for k, v in value.items()}
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged.setdefault(key, []).extend(value)
    return merged


def _dashboard(board: dict, i: int) -> dict:
    board = _rename_refs(board, i)
    board["title"] = f"S{i} {board['title']}"
    if "uid" in board:
        board["uid"] = f"s{i}-{board['uid']}"[:40]
    return board


def _shared_alerts() -> set[str]:
    """The alerts the one project raises once for every copy: its scrape job's absence alerts."""
    name = camel(yaml.safe_load((SPECS / "project.yaml").read_text())["project"]["name"])
    return {name + "TargetDown", name + "TargetMissing"}


def _renamed_matchers(matchers: dict, i: int) -> dict:
    """A route's or inhibit rule's `match` / `match_re`, its alert names turned into copy i's."""
    renamed = {}
    for kind, labels in matchers.items():
        labels = dict(labels)
        if "alertname" in labels:
            named = labels["alertname"]
            labels["alertname"] = f"S{i}{named}" if kind.endswith("match") else f"S{i}(?:{named})"
        renamed[kind] = labels
    return renamed


def _matchers(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k.endswith(("match", "match_re"))}


def _routing(copies: int) -> dict:
    """One root; per copy its receivers, a child route by alert-name prefix, and its inhibit rules.

    An inhibit rule between the project's shared absence alerts is kept once, as written."""
    base = yaml.safe_load((SPECS / "routing.yaml").read_text())["routing"]
    shared = _shared_alerts()
    routing = {k: v for k, v in base.items() if k not in ("receivers", "routes", "inhibit")}
    routing["receiver"] = f"{base['receiver']}-s0"
    routing["receivers"], routing["routes"], routing["inhibit"] = {}, [], []
    for rule in base.get("inhibit", []):
        if all(m.get("alertname") in shared for m in _matchers(rule).values()):
            routing["inhibit"].append(copy.deepcopy(rule))
    for i in range(copies):
        rename = {name: f"{name}-s{i}" for name in base["receivers"]}
        routing["receivers"].update({rename[k]: copy.deepcopy(v) for k, v in base["receivers"].items()})
        children = [{**copy.deepcopy(r), **_renamed_matchers(_matchers(r), i), "receiver": rename[r["receiver"]]}
                    for r in base.get("routes", [])]
        routing["routes"].append({"match_re": {"alertname": _alert_prefix(i)}, "routes": children})
        for rule in base.get("inhibit", []):
            named = _matchers(rule)
            if all(m.get("alertname") in shared for m in named.values()):
                continue
            rule = {**copy.deepcopy(rule), **_renamed_matchers(named, i)}
            for side in ("source", "target"):
                if not any("alertname" in m for k, m in named.items() if k.startswith(side)):
                    rule[f"{side}_match_re"] = {**rule.get(f"{side}_match_re", {}), "alertname": _alert_prefix(i)}
            routing["inhibit"].append(rule)
    return routing


def write_specs(target: Path, copies: int, components: bool = False) -> Path:
    """A spec folder with `copies` copies of everything; returns it. With `components`, each copy is
    a component of its own (scrape job `svc-<i>`), as fifty services sharing one spec set are: the
    per-component work (absence alerts, job selectors, each component's dashboards) grows too."""
    target.mkdir(parents=True, exist_ok=True)
    project = (SPECS / "project.yaml").read_text()
    routing = _routing(copies)
    if components:
        data = yaml.safe_load(project)
        del data["project"]["job"], data["project"]["scrape_target"]
        data["project"]["components"] = {f"s{i}": {"title": f"S{i}", "job": f"svc-{i}", "scrape_target": f"127.0.0.1:{8000 + i}"}
                                         for i in range(copies)}
        project = yaml.safe_dump(data, sort_keys=False)
        shared = _shared_alerts()  # the absence alerts are each component's now: the rules between the shared ones go
        routing["inhibit"] = [rule for rule in routing["inhibit"]
                              if not any(m.get("alertname") in shared for m in _matchers(rule).values())]
    (target / "project.yaml").write_text(project)
    (target / "routing.yaml").write_text(yaml.safe_dump({"routing": routing}, sort_keys=False))
    for i in range(copies):
        sections = _sections(i)
        if components:
            for entry in [*sections.get("metrics", {}).values(), *sections.get("dashboards", {}).values()]:
                entry["component"] = f"s{i}"
        (target / f"copy{i:03}.yaml").write_text(yaml.safe_dump(sections, sort_keys=False, allow_unicode=True))
    return target
