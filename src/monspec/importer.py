"""`monspec import`: an existing Prometheus rule file, or PrometheusRule manifest(s), as spec YAML.

The rules land in `rule_groups:` exactly as written — group name, interval and limit, rules
in order, expressions, `for`, `keep_firing_for`, labels and annotations — so rules.yml
generated from the result is semantically the rules a team already runs. Metrics the
expressions read that no catalog knows become `metrics:` entries with `unverified: true`
(the lint warns about them; it does not fail). A new project section is written unless the
import joins a specs folder that already has one; it turns the absence alert off so that no
rule is added. Scalars are read as text (YAML 1.1 `yes`, `1` or `on` stay what Prometheus
reads: strings), so labels and annotations survive exactly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monspec import promql
from monspec.errors import Position, Problem, SpecError
from monspec.render import yamltext
from monspec.spec.base import LABEL_NAME, METRIC_NAME
from monspec.spec.durations import parse_duration
from monspec.spec.loader import FAST_LOADER, NodeWalk, read_text

GROUP_FIELDS = ("name", "interval", "limit", "rules")
RULE_FIELDS = ("record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations")
# Series Prometheus itself writes: never in an exporter's catalog.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
             "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE"}
TARGET_LABELS = {"job", "instance", "__name__"}


@dataclass
class Imported:
    text: str  # the spec YAML
    groups: int
    rules: int
    unverified: list[str] = field(default_factory=list)
    wrote_project: bool = False


@dataclass
class _Doc:
    path: Path
    text: str
    positions: dict[tuple, tuple[int, int]]

    def problem(self, id: str, message: str, path: tuple, hint: str | None = None) -> Problem:
        p = tuple(path)
        while p not in self.positions and p:
            p = p[:-1]
        line, col = self.positions.get(p, (1, 1))
        lines = self.text.splitlines()
        return Problem(id, message, Position(self.path, line, col), hint=hint,
                       source_line=lines[line - 1] if 0 < line <= len(lines) else "")


def _strings(node: yaml.Node, path: tuple, positions: dict, walk: NodeWalk) -> Any:
    """Node tree → data with every scalar as its text (Prometheus reads labels and annotations as strings)."""
    with walk.visit(node, len(path)):
        positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                out[key] = _strings(value_node, path + (key,), positions, walk)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [_strings(child, path + (i,), positions, walk) for i, child in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:null" or (getattr(node, "style", None) is None and node.value in ("", "~", "null", "Null", "NULL")):
            return None
        return node.value


def read_rule_file(path: Path) -> tuple[list[tuple[_Doc, tuple, dict]], list[Problem]]:
    """(doc, path of the group, group data) for every group of a rule file or PrometheusRule manifest(s)."""
    text = read_text(path)
    try:
        nodes = list(yaml.compose_all(text, Loader=FAST_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError(Problem("import/yaml", f"invalid YAML: {exc.problem or exc.context}", Position(path, line, col),
                                source_line=(text.splitlines() or [""])[line - 1] if line <= len(text.splitlines()) else "")) from None
    groups: list[tuple[_Doc, tuple, dict]] = []
    base: tuple[str, ...]
    problems: list[Problem] = []
    walk = NodeWalk(path, text)  # one budget for all documents of the file
    for _index, node in enumerate(n for n in nodes if n is not None):
        positions: dict = {}
        data = _strings(node, (), positions, walk)
        doc = _Doc(path, text, positions)
        if isinstance(data, dict) and data.get("kind") == "PrometheusRule":
            spec: dict = data["spec"] if isinstance(data.get("spec"), dict) else {}
            base, found = ("spec", "groups"), spec.get("groups")
        elif isinstance(data, dict) and "groups" in data:
            base, found = ("groups",), data.get("groups")
        else:
            problems.append(doc.problem("import/not-rules", "expected a Prometheus rule file (`groups:`) or a "
                                        "PrometheusRule manifest (`kind: PrometheusRule`)", ()))
            continue
        if not isinstance(found, list):
            problems.append(doc.problem("import/not-rules", "`groups` must be a list of rule groups", base))
            continue
        groups += [(doc, base + (i,), g) for i, g in enumerate(found)]
    return groups, problems


def _check_group(doc: _Doc, path: tuple, group: Any, problems: list[Problem]) -> bool:
    before = len(problems)
    if not isinstance(group, dict):
        problems.append(doc.problem("import/invalid", "a rule group must be a mapping with `name` and `rules`", path))
        return False
    for key in group:
        if key not in GROUP_FIELDS:
            problems.append(doc.problem("import/unsupported", f"unsupported group field `{key}`", path + (key,),
                                        hint=f"monspec keeps {', '.join(GROUP_FIELDS)}"))
    if not group.get("name"):
        problems.append(doc.problem("import/invalid", "a rule group needs a `name`", path))
    if group.get("interval") is not None:
        _duration(doc, path + ("interval",), group["interval"], problems)
    if group.get("limit") is not None and not re.fullmatch(r"\d+", str(group["limit"])):
        problems.append(doc.problem("import/invalid", f"`limit` must be a whole number, got {group['limit']!r}", path + ("limit",)))
    rules = group.get("rules")
    if not isinstance(rules, list) or not rules:
        problems.append(doc.problem("import/invalid", "a rule group needs a non-empty list of `rules`", path))
        return False
    for i, rule in enumerate(rules):
        _check_rule(doc, path + ("rules", i), rule, problems)
    return len(problems) == before


def _check_rule(doc: _Doc, path: tuple, rule: Any, problems: list[Problem]) -> None:
    if not isinstance(rule, dict):
        problems.append(doc.problem("import/invalid", "a rule must be a mapping", path))
        return
    for key in rule:
        if key not in RULE_FIELDS:
            problems.append(doc.problem("import/unsupported", f"unsupported rule field `{key}`", path + (key,)))
    if ("record" in rule) == ("alert" in rule):
        problems.append(doc.problem("import/invalid", "a rule needs exactly one of `record` or `alert`", path))
        return
    if "record" in rule and not METRIC_NAME.match(str(rule["record"] or "")):
        problems.append(doc.problem("import/invalid", f"{rule['record']!r} is not a valid metric name", path + ("record",)))
    expr = rule.get("expr")
    if not expr:
        problems.append(doc.problem("import/invalid", "a rule needs an `expr`", path))
    else:
        try:
            promql.parse(expr)
        except promql.PromQLSyntaxError as exc:
            problems.append(doc.problem("promql/syntax", f"invalid PromQL: {exc.message}", path + ("expr",)))
    for key in ("for", "keep_firing_for"):
        if rule.get(key) is not None:
            _duration(doc, path + (key,), rule[key], problems)
    for key in ("labels", "annotations"):
        value = rule.get(key)
        if value is None:
            continue
        if not isinstance(value, dict) or any(isinstance(v, (dict, list)) for v in value.values()):
            problems.append(doc.problem("import/invalid", f"`{key}` must map names to strings", path + (key,)))
            continue
        if key == "labels":
            for name in value:
                if not LABEL_NAME.match(name):
                    problems.append(doc.problem("import/invalid", f"{name!r} is not a valid label name", path + (key, name)))


def _duration(doc: _Doc, path: tuple, value: Any, problems: list[Problem]) -> None:
    try:
        parse_duration(value)
    except ValueError as exc:
        problems.append(doc.problem("import/invalid", f"`{path[-1]}`: {exc}", path))


def import_file(path: Path, existing=None, name: str | None = None) -> Imported:
    """Convert one rule file; `existing` is the SpecSet the result joins (its project and catalog), if any."""
    path = Path(path)
    found, problems = read_rule_file(path)
    groups = [(doc, p, g) for doc, p, g in found if _check_group(doc, p, g, problems)]
    seen: dict[str, tuple[_Doc, tuple]] = {}
    taken = set(getattr(existing, "rule_groups", {}) or {})
    if existing is not None and existing.project is not None:
        taken |= {f"{existing.project.name}.recording", f"{existing.project.name}.alerts"}
    for doc, p, g in groups:
        gname = str(g["name"])
        if gname in seen or gname in taken:
            problems.append(doc.problem("import/duplicate-group", f"rule group `{gname}` is defined twice"
                                        + ("" if gname in seen else " (the specs already have it)"), p + ("name",)))
        seen.setdefault(gname, (doc, p))
    if not found and not problems:
        problems.append(Problem("import/empty", "no rule groups in the file", Position(path, 1, 1)))
    if problems:
        raise SpecError(problems)

    rules = [rule for _, _, g in groups for rule in g["rules"]]
    metrics = _unverified_metrics(rules, existing)
    project_name = None
    if existing is None or existing.project is None:
        project_name = _project_name(name or path.stem)
    text = _spec_text(path, groups, metrics, project_name, manifest_metadata(path) if project_name else {})
    return Imported(text, len(groups), len(rules), sorted(metrics), project_name is not None)


def _project_name(raw: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = "imported-" + name if name else "imported"
    return name


def _unverified_metrics(rules: list[dict], existing) -> dict[str, dict]:
    """Metrics the rules read that neither the existing catalog nor any recording rule provides."""
    known: set[str] = set(SYNTHETIC)
    if existing is not None:
        from monspec.model.catalog import build_catalog

        known |= set(build_catalog(existing).series)
        known |= {r.record for g in (getattr(existing, "rule_groups", {}) or {}).values() for r in g.rules if r.record}
    known |= {str(r["record"]) for r in rules if "record" in r}
    selectors = [(s.name, s) for r in rules for s in promql.parse(r["expr"]).selectors if s.name is not None]
    histograms = {name[: -len("_bucket")] for name, s in selectors if name.endswith("_bucket")
                  and ("histogram_quantile" in s.enclosing or any(m.name == "le" for m in s.matchers))}
    out: dict[str, dict] = {}
    for name, s in selectors:
        base = next((name[: -len(suffix)] for suffix in ("_bucket", "_sum", "_count") if name.endswith(suffix)
                     and name[: -len(suffix)] in histograms), None)
        if name in known or (base is not None and base in known):
            continue
        key = base or name
        entry = out.setdefault(key, {"type": "histogram" if base else _guess_type(name, s), "unit": _guess_unit(key),
                                     "labels": set()})
        entry["labels"] |= {m.name for m in s.matchers if m.name not in TARGET_LABELS and m.name != "le"}
    return out


def _guess_type(name: str, selector) -> str:
    if name.endswith(("_total", "_count", "_sum")) or any(f in selector.enclosing for f in ("rate", "irate", "increase")):
        return "counter"
    return "gauge"


def _guess_unit(name: str) -> str:
    for suffix, unit in (("_seconds", "seconds"), ("_bytes", "bytes"), ("_ratio", "ratio"), ("_percent", "percent")):
        if name.removesuffix("_total").removesuffix("_sum").removesuffix("_count").endswith(suffix):
            return unit
    return "none"


def manifest_metadata(path: Path) -> dict:
    """name, namespace and labels of the first PrometheusRule manifest in the file (empty for a rule file),
    so a re-generated manifest lands where the imported one was and its ruleSelector still finds it."""
    for data in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if isinstance(data, dict) and data.get("kind") == "PrometheusRule" and isinstance(data.get("metadata"), dict):
            meta = data["metadata"]
            labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
            return {"name": meta.get("name"), "namespace": meta.get("namespace"),
                    "labels": {str(k): str(v) for k, v in labels.items() if k != "app.kubernetes.io/managed-by"}}
    return {}


def _spec_text(path: Path, groups, metrics: dict[str, dict], project_name: str | None, metadata: dict) -> str:
    s, k = yamltext.scalar, yamltext.key
    out = [f"# Imported by `monspec import` from {path.name}.",
           "# `rule_groups` are written to rules.yml exactly as they are here; move rules to",
           "# alerts / kpis / recording_rules to get monspec's checks, runbook and dashboards for them."]
    if project_name is not None:
        out += [
            "# Edit the project: job, scrape_target and runbook_base_url are placeholders. If the specs",
            "# folder already has a project, delete this section (or re-import with --specs that folder).",
            "project:",
            f"  name: {s(project_name, 2)}",
            f"  title: {s(project_name, 2)}",
            f"  job: {s(project_name, 2)}",
            f"  runbook_base_url: {s(f'https://runbooks.example.com/{project_name}/alerts.md', 2)}",
            "  absence_alert: false  # true adds a <Name>TargetMissing alert on up{job=...}",
        ]
        if any(metadata.get(k) for k in ("name", "namespace", "labels")):
            out.append("  kubernetes:  # the imported manifest's metadata, kept for generated/kubernetes/prometheusrule.yaml")
            for key in ("name", "namespace"):
                if metadata.get(key):
                    out.append(f"    {key}: {s(str(metadata[key]), 4)}")
            if metadata.get("labels"):
                out.append("    labels:")
                out += [f"      {k(n)}: {s(v, 6)}" for n, v in sorted(metadata["labels"].items())]
    if metrics:
        out += ["# Metrics the rules read that no catalog names; check each against the exporter,",
                "# fill in type / unit / labels / help, then drop `unverified`.",
                "metrics:"]
        for name in sorted(metrics):
            m = metrics[name]
            out += [f"  {k(name)}:", f"    type: {m['type']}", f"    unit: {m['unit']}",
                    f"    help: {s(f'Read by rules imported from {path.name}; not yet checked against the exporter.', 4)}"]
            if m["labels"]:
                out.append("    labels:")
                out += [f"      {k(label)}: any" for label in sorted(m["labels"])]
            out.append("    unverified: true")
    out.append("rule_groups:")
    for _, _, g in groups:
        out.append(f"  {k(str(g['name']))}:")
        if g.get("interval") is not None:
            out.append(f"    interval: {s(str(g['interval']), 4)}")
        if g.get("limit") is not None:
            out.append(f"    limit: {int(g['limit'])}")
        out.append("    rules:")
        for rule in g["rules"]:
            kind = "record" if "record" in rule else "alert"
            out.append(f"      - {kind}: {s(str(rule[kind]), 8)}")
            out.append(f"        expr: {s(rule['expr'], 8)}")
            for key in ("for", "keep_firing_for"):
                if rule.get(key) is not None:
                    out.append(f"        {key}: {s(str(rule[key]), 8)}")
            for key in ("labels", "annotations"):
                values = rule.get(key) or {}
                if values:
                    out.append(f"        {key}:")
                    out += [f"          {k(n)}: {s('' if v is None else str(v), 10)}" for n, v in values.items()]
    return "\n".join(out) + "\n"


def existing_specs(specs_dir: Path | None, out_file: Path | None):
    """The SpecSet an import joins: `specs_dir`, else the out file's folder when it holds spec files;
    the out file itself (a re-import) is left out. None when there is nothing to join."""
    from monspec.spec import load_specs, spec_files

    folder = specs_dir if specs_dir is not None else (out_file.parent if out_file is not None else None)
    if folder is None or not folder.is_dir():
        return None
    exclude = [out_file] if out_file is not None else []
    skip = {f.resolve() for f in exclude}
    if not [f for f in spec_files(folder) if f.resolve() not in skip]:
        return None
    try:
        return load_specs(folder, exclude=exclude)
    except SpecError as exc:
        if [p.id for p in exc.problems] == ["spec/no-project"]:
            return None
        raise
