"""YAML loading that remembers where every node came from.

PyYAML's composer keeps a mark on every node; we turn the node tree into plain
Python data and keep a map from each data path (`("alerts", "redis_master_down",
"for")`) to its file position, so later stages can point at the exact line and
column of a value they reject.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monspec.errors import Position, Problem, SpecError

PathKey = tuple[Any, ...]
# libyaml's parser when PyYAML was built with it: the same nodes and marks, several times faster.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class NodeInfo:
    line: int  # 1-indexed
    col: int  # 1-indexed
    style: str | None = None  # scalar style: None (plain), "'", '"', "|", ">"
    indent: int = 0  # content indent of a block scalar, 0-indexed columns


@dataclass
class SourceFile:
    """One spec file: its text, its data, and positions of every value and key."""

    path: Path
    text: str
    data: Any
    values: dict[PathKey, NodeInfo] = field(default_factory=dict)
    keys: dict[PathKey, NodeInfo] = field(default_factory=dict)

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def position(self, path: PathKey, *, key: bool = False) -> Position:
        """Position of the value (or, with key=True, the key) at path, or of its nearest ancestor."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                info = table[p]
                return Position(self.path, info.line, info.col)
            if not key and p in self.keys:
                info = self.keys[p]
                return Position(self.path, info.line, info.col)
            p = p[:-1]
        info = self.values.get((), NodeInfo(1, 1))
        return Position(self.path, info.line, info.col)

    def position_in_scalar(self, path: PathKey, offset: int) -> Position:
        """Position of character `offset` inside the string value at path (a PromQL token, say)."""
        info = self.values.get(tuple(path))
        if info is None:
            return self.position(path)
        value = value_at(self.data, path)
        if not isinstance(value, str):
            return Position(self.path, info.line, info.col)
        offset = max(0, min(offset, len(value)))
        if info.style in ("|", ">"):
            before = value[:offset]
            line = info.line + 1 + before.count("\n")
            col = info.indent + 1 + len(before.rsplit("\n", 1)[-1])
            return Position(self.path, line, col)
        if "\n" in value or self.line_text(info.line)[info.col - 1 :].count("\n"):
            return Position(self.path, info.line, info.col)
        quote = 1 if info.style in ("'", '"') else 0
        return Position(self.path, info.line, info.col + quote + offset)

    def problem(self, id: str, message: str, path: PathKey, *, key: bool = False,
                hint: str | None = None, offset: int | None = None,
                related: tuple[Position, ...] = (), severity: str = "error") -> Problem:
        pos = self.position_in_scalar(path, offset) if offset is not None else self.position(path, key=key)
        return Problem(id, message, pos, severity=severity, hint=hint, related=related,
                       source_line=self.line_text(pos.line))


def value_at(data: Any, path: PathKey) -> Any:
    """The value at a data path, or None where the path does not exist."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _block_indent(text_lines: list[str], start_line0: int) -> int:
    """Indent of a block scalar's content, which starts on the line after its indicator."""
    for line in text_lines[start_line0 + 1 :]:
        if line.strip():
            return len(line) - len(line.lstrip(" "))
    return 0


class _Builder:
    def __init__(self, path: Path, text: str):
        self.src = SourceFile(path=path, text=text, data=None)
        self.lines = text.splitlines()
        self.constructor = yaml.SafeLoader("")
        self.problems: list[Problem] = []

    def info(self, node: yaml.Node) -> NodeInfo:
        mark = node.start_mark
        style = getattr(node, "style", None) if isinstance(node, yaml.ScalarNode) else None
        indent = _block_indent(self.lines, mark.line) if style in ("|", ">") else 0
        return NodeInfo(mark.line + 1, mark.column + 1, style, indent)

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.src.values[path] = self.info(node)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            seen: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                key = self.constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    key = str(key)
                if key in seen:
                    first = seen[key].start_mark
                    pos = Position(self.src.path, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    self.problems.append(Problem(
                        "yaml/duplicate-key", f"duplicate key {key!r} in this mapping", pos,
                        related=(Position(self.src.path, first.line + 1, first.column + 1),),
                        hint="YAML keeps only the last one; remove or rename one of them",
                        source_line=self.src.line_text(pos.line)))
                    continue
                seen[key] = key_node
                self.src.keys[path + (key,)] = self.info(key_node)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)


def load_file(path: Path) -> SourceFile:
    """Parse one spec file; raise SpecError with the YAML problem's position when it is not YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(Problem("yaml/encoding", f"not UTF-8 text: {exc.reason}", Position(path, 1, 1))) from None
    return load_text(path, text)


def load_text(path: Path, text: str) -> SourceFile:
    builder = _Builder(path, text)
    try:
        root = yaml.compose(text, Loader=FAST_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and mark and not builder.src.line_text(mark.line + 1).strip():
            mark = exc.context_mark  # the problem is "end of file": point at what was left open
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = exc.problem or "invalid YAML"
        if exc.context:
            message = f"{exc.context}: {message}" if exc.problem else exc.context
        pos = Position(path, line, col)
        raise SpecError(Problem("yaml/syntax", f"invalid YAML: {message}", pos,
                                source_line=builder.src.line_text(line))) from None
    except yaml.YAMLError as exc:
        raise SpecError(Problem("yaml/syntax", f"invalid YAML: {exc}", Position(path, 1, 1))) from None
    if root is None:
        raise SpecError(Problem("spec/empty-file", "empty spec file: expected a mapping such as `kpis:` or `alerts:`",
                                Position(path, 1, 1), source_line=builder.src.line_text(1)))
    builder.src.data = builder.build(root, ())
    if builder.problems:
        raise SpecError(builder.problems)
    return builder.src
