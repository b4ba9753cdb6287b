"""Spec loading: YAML files with positions → validated models → one SpecSet.

Every file under the specs folder (recursively, `*.yaml` / `*.yml`, README and
hidden files excepted) is one mapping of sections; sections from all files merge,
and a name defined twice is an error that names both places.
"""
from __future__ import annotations

import difflib
import functools
import os
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from monspec.errors import Problem, SpecError
from monspec.heap import cycle_collection_paused
from monspec.spec.base import Located, Placed
from monspec.spec.dashboards import Dashboard
from monspec.spec.loader import SourceFile, load_file, value_at
from monspec.spec.models import (
    Alert,
    Kpi,
    Metric,
    Project,
    RecordingRule,
    RuleGroupSpec,
    SpecFile,
)
from monspec.spec.routing import Routing
from monspec.spec.slos import Slo


@dataclass
class SpecSet:
    """Everything the specs folder says, merged across files; loading fails without a project."""

    root: Path
    project: Project
    files: list[SourceFile] = field(default_factory=list)
    metrics: dict[str, Metric] = field(default_factory=dict)
    recording_rules: list[RecordingRule] = field(default_factory=list)
    kpis: dict[str, Kpi] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    routing: Routing | None = None
    rule_groups: dict[str, RuleGroupSpec] = field(default_factory=dict)
    dashboards: dict[str, Dashboard] = field(default_factory=dict)
    slos: dict[str, Slo] = field(default_factory=dict)

    @functools.cached_property
    def recorded(self) -> dict[str, list[RecordingRule]]:
        """The recording rules by the series they record (one name may have several rules): following
        an expression through the rules it reads is a lookup, not a scan of every rule."""
        found: dict[str, list[RecordingRule]] = {}
        for rule in self.recording_rules:
            found.setdefault(rule.record, []).append(rule)
        return found


@dataclass
class _Merged:
    """The spec set while files are still being merged: the project may not have been seen yet."""

    project: Project | None = None
    routing: Routing | None = None
    files: list[SourceFile] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=lambda: {
        "metrics": {}, "recording_rules": [], "kpis": {}, "alerts": {}, "rule_groups": {}, "dashboards": {},
        "slos": {}})


def spec_files(root: Path) -> list[Path]:
    if not root.is_dir():
        raise SpecError(f"specs folder {root} does not exist")
    found = [p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(found)


def load_specs(root: Path, exclude: Iterable[Path] = ()) -> SpecSet:
    """Load and validate every spec file but those in `exclude` (the file an import is about to
    replace); raise SpecError listing every problem found."""
    root = Path(root)
    skip = {Path(p).resolve() for p in exclude}
    specs = _Merged()
    problems: list[Problem] = []
    with cycle_collection_paused():
        _load_files(root, skip, specs, problems)
    if problems:
        raise SpecError(problems)
    if specs.project is None:
        raise SpecError(Problem("spec/no-project", f"no `project:` section in any spec file under {root}",
                                hint="add specs/project.yaml with name, title, job and runbook_base_url"))
    return SpecSet(root=root, project=specs.project, files=specs.files, routing=specs.routing, **specs.sections)


def _load_files(root: Path, skip: set[Path], specs: _Merged, problems: list[Problem]) -> None:
    for path in spec_files(root):
        if path.resolve() in skip:
            continue
        shown = _display_path(path)
        try:
            source = load_file(shown, within=root)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        specs.files.append(source)
        model = _validate(source, problems)
        if model is None:
            continue
        _attach(model, source)
        _merge(specs, model, problems)


def _display_path(path: Path) -> Path:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(Path.cwd()))  # a symlink keeps its own name
    except ValueError:
        return path


def _validate(source: SourceFile, problems: list[Problem]) -> SpecFile | None:
    data = source.data
    if not isinstance(data, dict):
        problems.append(source.problem("spec/type", f"expected a mapping of sections (project, metrics, kpis, alerts, …), "
                                       f"found {_kind(data)}", ()))
        return None
    try:
        return SpecFile.model_validate(data)
    except ValidationError as exc:
        problems.extend(_map_errors(source, exc))
        return None


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)


_TYPE_WORDS = {
    "dict_type": "a mapping", "model_type": "a mapping", "list_type": "a list", "string_type": "a string",
    "int_type": "a whole number", "float_type": "a number", "bool_type": "true or false",
}


def _map_errors(source: SourceFile, exc: ValidationError) -> list[Problem]:
    problems = []
    seen = set()
    for err in exc.errors(include_url=False):
        kind = err["type"]
        loc, about_key = _data_loc(source.data, tuple(err["loc"]))
        if kind == "missing":
            problems.append(source.problem("spec/missing-field", f"missing required field `{err['loc'][-1]}`", loc, key=bool(loc)))
            continue
        # Union members each report; keep the first error per location.
        if (loc, about_key) in seen:
            continue
        seen.add((loc, about_key))
        value = value_at(source.data, loc)
        if kind == "extra_forbidden":
            field_name = loc[-1]
            allowed = _allowed_fields(loc[:-1])
            close = difflib.get_close_matches(str(field_name), allowed, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else (f"allowed: {', '.join(allowed)}" if allowed else None)
            problems.append(source.problem("spec/unknown-field", f"unknown field `{field_name}`", loc, key=True, hint=hint))
            continue
        message = err["msg"].removeprefix("Value error, ")
        if about_key:
            problems.append(source.problem("spec/invalid", message, loc, key=True))
            continue
        if kind in _TYPE_WORDS:
            message = f"expected {_TYPE_WORDS[kind]}, found {_kind(value)}"
        elif kind == "literal_error":
            message = f"{message}, found {value!r}"
        path = loc
        key = False
        named = re.search(r"`([a-z_]+):?`", message)
        if isinstance(value, dict) and named and named.group(1) in value:
            path, key = loc + (named.group(1),), True
        field_name = next((p for p in reversed(loc) if isinstance(p, str)), "")
        prefix = f"`{field_name}`: " if field_name and not key and kind not in ("model_type",) else ""
        problems.append(source.problem("spec/invalid", prefix + message, path, key=key))
    return problems


def _data_loc(data: Any, loc: tuple) -> tuple[tuple, bool]:
    """The parts of a pydantic error location that name places in the data (union-member and validator
    tags such as `list[str]` dropped, while a key such as `a[0]` stays), and whether the error is about
    a mapping key (`[key]`)."""
    path: list[Any] = []
    node, about_key = data, False
    for part in loc:
        if part == "[key]":
            about_key = True
        elif isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
    return tuple(path), about_key


def _allowed_fields(loc: tuple) -> list[str]:
    """Field names of the model found at loc, walking SpecFile's annotations."""
    current: Any = SpecFile
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _step(annotation: Any, part: Any) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, f in annotation.model_fields.items():
            if part in (name, f.alias):
                return _unwrap(f.annotation)
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    if origin is list and args:
        return _unwrap(args[0])
    return None


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if models:
            return models[0]
        return members[0] if len(members) == 1 else annotation
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _attach(model: SpecFile, source: SourceFile) -> None:
    """Give every named entity its file, path and name."""
    for field_name in type(model).model_fields:
        value = getattr(model, field_name)
        if isinstance(value, Placed):
            _locate(value, source, (field_name,), field_name)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, Located):
                    _locate(item, source, (field_name, key), str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Located):
                    _locate(item, source, (field_name, i), getattr(item, "record", str(i)))


def _locate(entity: Placed, source: SourceFile, path: tuple, name: str) -> None:
    entity._source, entity._path, entity._name = source, path, name
    for field_name, alias in _field_aliases(type(entity)):
        child = getattr(entity, field_name)
        if isinstance(child, Placed):
            _locate(child, source, path + (alias,), f"{name}.{alias}")
        elif isinstance(child, list):
            for i, item in enumerate(child):
                if isinstance(item, Placed):
                    _locate(item, source, path + (alias, i), getattr(item, "title", None) or f"{name}.{alias}[{i}]")
        elif isinstance(child, dict):
            for key, item in child.items():
                if isinstance(item, Placed):
                    _locate(item, source, path + (alias, key), str(key))


@functools.cache
def _field_aliases(model: type[Placed]) -> tuple[tuple[str, str], ...]:
    """(field name, the name the spec writes it by) of each field: asked once per class, not per entity."""
    return tuple((name, field.alias or name) for name, field in model.model_fields.items())


def _merge(specs: _Merged, model: SpecFile, problems: list[Problem]) -> None:
    if model.project is not None:
        if specs.project is not None:
            problems.append(model.project.problem("spec/duplicate-name", "a second `project:` section", key=True,
                                                  related=(specs.project.position(key=True),)))
        else:
            specs.project = model.project
    if model.routing is not None:
        if specs.routing is not None:
            problems.append(model.routing.problem("spec/duplicate-name", "a second `routing:` section", key=True,
                                                  related=(specs.routing.position(key=True),)))
        else:
            specs.routing = model.routing
    for section in type(model).model_fields:
        if section in ("project", "routing"):
            continue
        value = getattr(model, section)
        target = specs.sections.get(section)
        if isinstance(value, dict) and isinstance(target, dict):
            for name, entity in value.items():
                if name in target:
                    problems.append(entity.problem(
                        "spec/duplicate-name", f"{section[:-1] if section.endswith('s') else section} `{name}` is defined twice",
                        key=True, related=(target[name].position(key=True),)))
                    continue
                target[name] = entity
        elif isinstance(value, list) and isinstance(target, list):
            target.extend(value)
