"""YAML loading that remembers where every node came from.

PyYAML's composer keeps a mark on every node; we turn the node tree into plain
Python data and keep a map from each data path (`("alerts", "redis_master_down",
"for")`) to its file position, so later stages can point at the exact line and
column of a value they reject.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monspec.errors import Position, Problem, SpecError

PathKey = tuple[Any, ...]
# libyaml's parser when PyYAML was built with it: the same nodes and marks, several times faster.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(slots=True)
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
                related: tuple[Position, ...] = (), severity: str = "error", secret: bool = False) -> Problem:
        """A Problem with the source line and a caret; with `secret`, the value at path is masked in that line."""
        pos = self.position_in_scalar(path, offset) if offset is not None else self.position(path, key=key)
        line = self.line_text(pos.line)
        value = self.values.get(tuple(path))
        if secret and value is not None and value.line == pos.line:
            line = line[: value.col - 1] + "****"
        return Problem(id, message, pos, severity=severity, hint=hint, related=related, source_line=line)


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


MAX_FILE_BYTES = 1024 * 1024  # about 6,000 alerts; loading takes some 80 bytes of memory per byte
MAX_VALUES = 200_000  # per file, every alias use counted: bounds an alias bomb's time and memory
MAX_DEPTH = 64
_STR = "tag:yaml.org,2002:str"
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCALAR_TAGS = {f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "timestamp")}
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_TAG_HINTS = {
    "tag:yaml.org,2002:merge": "YAML merge keys (`<<`) are not supported: write the keys out",
    "tag:yaml.org,2002:value": "a bare `=` is not a value: quote it ('=')",
}


class NodeWalk:
    """The bounds every walk over composed YAML nodes keeps (spec files and `monspec import` alike):
    a budget of values with every alias use counted, a nesting depth, and no alias cycles."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text
        self.count = 0
        self.open: set[int] = set()  # collections being walked: an alias back into one of them is a cycle

    def fail(self, node: yaml.Node, message: str, id: str = "yaml/unsupported", hint: str | None = None) -> SpecError:
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        lines = self.text.splitlines()
        return SpecError(Problem(id, message, Position(self.path, line, col), hint=hint,
                                 source_line=lines[line - 1] if 0 < line <= len(lines) else ""))

    def visit(self, node: yaml.Node, depth: int) -> contextlib.AbstractContextManager[None]:
        """Counts the node and checks the bounds; walk its children inside the returned context."""
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.fail(node, f"this file holds more than {MAX_VALUES:,} values (every use of an alias counted)",
                            "yaml/too-large", "split it into several files, or use fewer aliases")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested more than {MAX_DEPTH} levels deep", "yaml/too-large")
        if id(node) in self.open:
            raise self.fail(node, "an alias refers to a mapping or list that contains it", "yaml/recursive-alias")
        if isinstance(node, yaml.ScalarNode):
            return _NOTHING_OPEN
        return _Open(self.open, id(node))


_NOTHING_OPEN = contextlib.nullcontext()


class _Open:
    """A collection being walked: open (an alias back into it is a cycle) until its walk ends.
    A plain class, not a generator context: the loader enters one per value."""

    __slots__ = ("open", "key")

    def __init__(self, open: set[int], key: int) -> None:
        self.open, self.key = open, key

    def __enter__(self) -> None:
        self.open.add(self.key)

    def __exit__(self, *exc: object) -> None:
        self.open.discard(self.key)


def read_text(path: Path, within: Path | None = None) -> str:
    """A YAML file's text within the size bound; SpecError when it is too large, unreadable, not UTF-8,
    or (with `within`) a symlink that leads out of that folder: its target is never read or shown."""
    if within is not None and Path(within).resolve() not in path.resolve().parents:
        raise SpecError(Problem("spec/symlink", f"this file is a symlink that leads out of {within}",
                                Position(path, 1, 1), hint="copy the file into the spec folder instead"))
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(Problem("yaml/too-large", f"this file is {size:,} bytes, over the limit of "
                                    f"{MAX_FILE_BYTES:,} bytes per spec file", Position(path, 1, 1),
                                    hint="split it into several files"))
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(Problem("spec/unreadable", f"cannot read this file: {exc.strerror}", Position(path, 1, 1))) from None
    except UnicodeDecodeError as exc:
        raise SpecError(Problem("yaml/encoding", f"not UTF-8 text: {exc.reason}", Position(path, 1, 1))) from None


class _Builder:
    """Turns composed nodes into plain data, with positions, within the bounds of NodeWalk."""

    def __init__(self, path: Path, text: str):
        self.src = SourceFile(path=path, text=text, data=None)
        self.lines = text.splitlines()
        self.walk = NodeWalk(path, text)
        self.fail = self.walk.fail
        self.constructor = yaml.SafeLoader("")
        self.problems: list[Problem] = []

    def info(self, node: yaml.Node) -> NodeInfo:
        mark = node.start_mark
        style = getattr(node, "style", None) if isinstance(node, yaml.ScalarNode) else None
        indent = _block_indent(self.lines, mark.line) if style in ("|", ">") else 0
        return NodeInfo(mark.line + 1, mark.column + 1, style, indent)

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        with self.walk.visit(node, len(path)):
            self.src.values[path] = self.info(node)
            if isinstance(node, yaml.ScalarNode):
                return self.scalar(node)
            if node.tag not in _COLLECTION_TAGS:
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}", hint="remove the tag")
            if isinstance(node, yaml.SequenceNode):
                return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)
            return self.mapping(node, path)

    def mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "a key must be a plain value, not a mapping or a list")
            key = self.scalar(key_node)
            if not isinstance(key, (str, int, float, bool)):
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

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag in _TAG_HINTS:
            raise self.fail(node, _TAG_HINTS[node.tag])
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, f"unsupported YAML tag {node.tag!r}", hint="remove the tag, or quote the value")
        if node.tag == _STR:
            if _SURROGATE.search(node.value):
                raise self.fail(node, "this text holds a lone surrogate escape (such as \\ud800), which is not a character",
                                "yaml/invalid-value", "write the character itself, or a \\U escape for it")
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError):
            kind = {"int": "a whole number", "float": "a number", "bool": "true or false", "timestamp": "a date"}.get(
                node.tag.rsplit(":", 1)[-1], node.tag)
            raise self.fail(node, f"{node.value[:40]!r} is not {kind}", "yaml/invalid-value") from None


def load_file(path: Path, within: Path | None = None) -> SourceFile:
    """Parse one spec file; raise SpecError with the YAML problem's position when it is not YAML."""
    return load_text(path, read_text(path, within))


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
