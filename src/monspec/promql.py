"""PromQL analysis on promql-parser's AST: which series an expression reads, and how.

The parser gives no token positions, so selectors are located by searching their
text in the expression; a syntax error is located by asking promtool (which reports
line:col) when it is installed.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import promql_parser as pp

_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # "=", "!=", "=~", "!~"
    value: str

    def matches(self, candidate: str) -> bool:
        return label_matches(self.op, self.value, candidate)


def label_matches(op: str, value: str, candidate: str) -> bool:
    """Whether a label value `candidate` satisfies the matcher `<label> <op> "<value>"` (regexes anchored)."""
    if op == "=":
        return candidate == value
    if op == "!=":
        return candidate != value
    hit = re.fullmatch(value, candidate) is not None
    return hit if op == "=~" else not hit


def escape_label_value(value: str) -> str:
    """A label value as it goes between double quotes in PromQL (and Alertmanager matchers)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass
class Selector:
    """One series selector and the functions / aggregations around it, innermost first."""

    name: str | None
    matchers: list[Matcher]
    offset: int  # character offset of the selector in the expression text
    range_seconds: float | None = None
    enclosing: list[str] = field(default_factory=list)  # e.g. ["rate", "sum"]
    grouping: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # ("by", ("le",)) per aggregation


@dataclass
class Analysis:
    expr: str
    ast: object
    selectors: list[Selector]
    functions: list[str]


class PromQLSyntaxError(ValueError):
    """A parse error with the 0-indexed character offset of the problem, when known."""

    def __init__(self, message: str, offset: int | None):
        super().__init__(message)
        self.message = message
        self.offset = offset


def value_type(expr: str) -> str:
    """What an expression gives: "vector", "scalar", "string" or "matrix" (PromQLSyntaxError when it does not parse)."""
    parse(expr)
    return _value_type(pp.parse(expr))


def _value_type(node: Any) -> str:
    kind = type(node).__name__
    if kind == "NumberLiteral":
        return "scalar"
    if kind == "StringLiteral":
        return "string"
    if kind in ("MatrixSelector", "SubqueryExpr"):
        return "matrix"
    if kind in ("ParenExpr", "UnaryExpr"):
        return _value_type(node.expr)
    if kind == "BinaryExpr":
        return "vector" if "vector" in (_value_type(node.lhs), _value_type(node.rhs)) else "scalar"
    if kind == "Call":
        return str(node.func.return_type).rsplit(".", 1)[-1].lower()
    return "vector"


def parse(expr: str) -> Analysis:
    """Parse and analyse; PromQLSyntaxError carries the offending offset where promtool can tell."""
    return _parse_cached(expr)


@lru_cache(maxsize=65536)  # every expression of a large spec set: lint and render passes reparse none
def _parse_cached(expr: str) -> Analysis:
    try:
        ast = pp.parse(expr)
    except ValueError as exc:
        message, offset = _locate_syntax_error(expr, str(exc))
        raise PromQLSyntaxError(message, offset) from None
    selectors: list[Selector] = []
    functions: list[str] = []
    stack: list[object] = []
    search_from: dict[str, int] = {}

    def pre(node):
        if isinstance(node, pp.VectorSelector):
            name = node.name or next((m.value for m in node.matchers.matchers if m.name == "__name__"), None)
            matchers = [Matcher(m.name, _MATCH_OPS[str(m.op)], m.value) for m in node.matchers.matchers if m.name != "__name__"]
            offset = _find_name(expr, name, search_from) if name else 0
            enclosing, grouping, range_seconds = [], [], None
            for parent in reversed(stack):
                if isinstance(parent, pp.MatrixSelector):
                    range_seconds = parent.range.total_seconds()
                elif isinstance(parent, pp.SubqueryExpr):
                    enclosing.append("subquery")
                elif isinstance(parent, pp.Call):
                    enclosing.append(parent.func.name)
                elif isinstance(parent, pp.AggregateExpr):
                    op = str(parent.op)
                    enclosing.append(op)
                    grouping.append(_grouping(parent))
            selectors.append(Selector(name, matchers, offset, range_seconds, enclosing, grouping))
        elif isinstance(node, pp.Call):
            functions.append(node.func.name)
        stack.append(node)

    def post(node):
        stack.pop()

    pp.walk(ast, pre, post)
    return Analysis(expr, ast, selectors, functions)


def _grouping(agg) -> tuple[str, tuple[str, ...]]:
    modifier = agg.modifier
    if modifier is None:
        return ("", ())
    text = str(modifier).strip()
    kind = "by" if text.startswith("by") else "without"
    labels = tuple(x.strip() for x in text[text.find("(") + 1 : text.rfind(")")].split(",") if x.strip())
    return (kind, labels)


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:")


def _find_name(expr: str, name: str, search_from: dict[str, int]) -> int:
    """Where the metric name stands in expr as a whole word, after its previous find (a plain
    search: a regex per name overflows re's cache of 512 patterns on a large spec set)."""
    at = expr.find(name, search_from.get(name, 0))
    while at >= 0:
        end = at + len(name)
        if (at == 0 or expr[at - 1] not in _NAME_CHARS) and (end == len(expr) or expr[end] not in _NAME_CHARS):
            search_from[name] = end
            return at
        at = expr.find(name, at + 1)
    return 0


_POSITION = re.compile(r"(\d+):(\d+): parse error: (.*)$")


def _locate_syntax_error(expr: str, fallback: str) -> tuple[str, int | None]:
    """Ask promtool where the error is (it reports line:col); fall back to the parser's message."""
    promtool = shutil.which("promtool")
    if not promtool:
        return fallback, None
    import subprocess  # only when an expression fails to parse: generate never pays for it

    import yaml

    rules = {"groups": [{"name": "probe", "rules": [{"record": "probe", "expr": expr}]}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.yml"
        path.write_text(yaml.safe_dump(rules))
        result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=30)
    for line in (result.stdout + result.stderr).splitlines():
        match = _POSITION.search(line)
        if match:
            line_no, col, message = int(match.group(1)), int(match.group(2)), match.group(3)
            lines = expr.split("\n")
            offset = sum(len(x) + 1 for x in lines[: line_no - 1]) + col - 1
            if "unclosed left" in message:
                offset = _unclosed_bracket(expr, offset)
            return message, max(0, min(offset, len(expr)))
    return fallback, None


def outside_strings(expr: str, start: int = 0):
    """(offset, character) of each character from `start` that is not inside a string literal."""
    quote = None
    i = start
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        else:
            yield i, c
        i += 1


def _unclosed_bracket(expr: str, default: int) -> int:
    """Offset of the opening bracket that is never closed (outside string literals)."""
    stack: list[int] = []
    for i, c in outside_strings(expr):
        if c in "([{":
            stack.append(i)
        elif c in ")]}" and stack:
            stack.pop()
    return stack[-1] if stack else default


def needs_parens(expr: str) -> bool:
    """True when the expression is a binary operation, so comparing it needs parentheses."""
    try:
        ast = pp.parse(expr)
    except ValueError:
        return True
    return isinstance(ast, pp.BinaryExpr)


def with_matchers(expr: str, wanted, analysed: str | None = None) -> str:
    """The expression with the matcher texts `wanted(selector)` returns (e.g. `job="api"`) inserted
    into each selector. `analysed` is the text to parse when it differs from `expr` only by
    same-length substitutions (Grafana's `$__rate_interval`), so offsets agree."""
    inserts = []
    for selector in parse(analysed or expr).selectors:
        missing = wanted(selector)
        if not missing:
            continue
        if selector.name is None:
            raise ValueError(f"cannot add {', '.join(missing)} to a selector without a metric name in {expr!r}")
        end = selector.offset + len(selector.name)
        brace = re.compile(r"\s*\{\s*(\}?)").match(expr, end)
        if brace:
            inserts.append((brace.end(0) - len(brace.group(1)), ", ".join(missing) + ("" if brace.group(1) else ", ")))
        else:
            inserts.append((end, "{" + ", ".join(missing) + "}"))
    for offset, text in sorted(inserts, reverse=True):
        expr = expr[:offset] + text + expr[offset:]
    return expr


def keeps_label(expr: str, label: str, recorded, raw_has) -> bool:
    """Whether the series `expr` returns can carry `label`. `recorded(name)` gives the expressions of the
    recording rules of that name (empty for a raw metric), `raw_has(name, label)` whether a raw series
    carries it; an aggregation `by` without it, `without` it, `on()` matching without it, or a
    function that builds new series (absent, vector, time, scalar) drops it."""

    def walk(node, seen: frozenset) -> bool:
        if isinstance(node, pp.ParenExpr):
            return walk(node.expr, seen)
        if isinstance(node, pp.MatrixSelector):
            return walk(node.vector_selector, seen)
        if isinstance(node, pp.SubqueryExpr):
            return walk(node.expr, seen)
        if isinstance(node, pp.VectorSelector):
            name = node.name or ""
            if any(m.name == label and _MATCH_OPS[str(m.op)] == "=" and m.value == "" for m in node.matchers.matchers):
                return False
            rules = [] if name in seen else list(recorded(name))
            if rules:
                return any(walk(pp.parse(r), seen | {name}) for r in rules)
            return raw_has(name, label)
        if isinstance(node, pp.AggregateExpr):
            kind, labels = _grouping(node)
            if kind == "by":
                return label in labels and walk(node.expr, seen)
            if kind == "without":
                return label not in labels and walk(node.expr, seen)
            return str(node.op) in ("topk", "bottomk", "limitk", "limit_ratio") and walk(node.expr, seen)
        if isinstance(node, pp.BinaryExpr):
            lhs_scalar = _scalar(node.lhs)
            rhs_scalar = _scalar(node.rhs)
            if lhs_scalar and rhs_scalar:
                return False
            if lhs_scalar or rhs_scalar:
                return walk(node.rhs if lhs_scalar else node.lhs, seen)
            modifier = node.modifier
            matching = modifier.matching if modifier is not None else None
            set_op = str(node.op) in ("and", "or", "unless")
            sides = [node.lhs, node.rhs] if str(node.op) == "or" else [node.lhs]
            card = str(modifier.card) if modifier is not None else ""
            if matching is not None and not set_op and "OneToOne" in card:
                on = str(matching).strip().startswith("on")
                if on and label not in matching.labels:
                    return False
                if not on and label in matching.labels:
                    return False
            if modifier is not None and ("ManyToOne" in card or "OneToMany" in card):
                many = node.lhs if "ManyToOne" in card else node.rhs
                return walk(many, seen) or label in (modifier.group_labels or [])
            return any(walk(side, seen) for side in sides)
        if isinstance(node, pp.Call):
            if node.func.name in ("absent", "absent_over_time"):
                return False  # absent() keeps equality matchers only; job/instance filters do not apply
            if node.func.name in ("vector", "time", "scalar", "pi"):
                return False
            if node.func.name in ("label_replace", "label_join") and len(node.args) > 1 and getattr(node.args[1], "val", None) == label:
                return True
            vectors = [a for a in node.args if not isinstance(a, (pp.NumberLiteral, pp.StringLiteral))]
            return any(walk(a, seen) for a in vectors)
        if isinstance(node, pp.UnaryExpr):
            return walk(node.expr, seen)
        return False

    return walk(parse(expr).ast, frozenset())


def _scalar(node) -> bool:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    if isinstance(node, (pp.NumberLiteral, pp.StringLiteral)):
        return True
    if isinstance(node, pp.Call) and node.func.name in ("time", "scalar", "pi"):
        return True
    if isinstance(node, pp.BinaryExpr):
        return _scalar(node.lhs) and _scalar(node.rhs)
    return False
