"""An alert's condition as data: `<lhs> <op> <value>` comparisons joined by `and` (or `unless`, whose
right side is a negated condition), and a top-level `or` of such groups (each condition knows its branch).

KPI alerts build theirs from the typed threshold; `expr:` alerts are parsed once, here. Lint and
the promtool-test planner read these instead of parsing the rule's PromQL text back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import promql_parser as pp

COMPARISONS = ("==", "!=", ">", "<", ">=", "<=")
PRESENT = "present"  # the condition of `absent(x)` over a plain selector: some series of x exists


@dataclass(frozen=True)
class Condition:
    lhs: pp.Expr  # parsed, without enclosing parentheses
    op: str
    value: float
    negated: bool = False  # the right side of `unless`: the alert fires while this does *not* hold
    branch: int = 0  # which side of a top-level `or` it belongs to: the alert fires when any branch holds

    @property
    def lhs_text(self) -> str:
        return self.lhs.prettify()


def unparen(node: pp.Expr) -> pp.Expr:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def parse_conditions(expr: str) -> tuple[tuple[Condition, ...], bool]:
    """(conditions, absent): the comparisons an alert expression is made of, or () when it is
    anything else; `absent(<conditions>)` gives the inner comparisons with absent=True."""
    try:
        node = unparen(pp.parse(expr))
    except ValueError:
        return (), False
    if isinstance(node, pp.Call) and node.func.name == "absent":
        inner = unparen(node.args[0])
        if isinstance(inner, pp.VectorSelector):
            return (Condition(inner, PRESENT, math.nan),), True  # absent(x): x present or not
        return conditions_of(inner), True
    branches = _branches(node)
    if branches is None:
        return (), False
    return tuple(Condition(c.lhs, c.op, c.value, c.negated, i) for i, branch in enumerate(branches) for c in branch), False


def _branches(node: pp.Expr) -> list[tuple[Condition, ...]] | None:
    """The sides of a top-level `or` chain, each a list of conditions; None when one side is not."""
    node = unparen(node)
    if isinstance(node, pp.BinaryExpr) and str(node.op) == "or":
        left, right = _branches(node.lhs), _branches(node.rhs)
        return left + right if left is not None and right is not None else None
    found = conditions_of(node)
    return [found] if found else None


def conditions_of(node: pp.Expr) -> tuple[Condition, ...]:
    node = unparen(node)
    if isinstance(node, pp.BinaryExpr) and str(node.op) in ("and", "unless"):
        left, right = conditions_of(node.lhs), conditions_of(node.rhs)
        if str(node.op) == "unless":
            right = tuple(Condition(c.lhs, c.op, c.value, not c.negated) for c in right)
        return left + right if left and right else ()
    if isinstance(node, pp.BinaryExpr) and str(node.op) in COMPARISONS and not (node.modifier and node.modifier.return_bool):
        lhs, rhs = unparen(node.lhs), unparen(node.rhs)
        if isinstance(rhs, pp.NumberLiteral) and not isinstance(lhs, pp.NumberLiteral):
            return (Condition(lhs, str(node.op), float(rhs.val)),)
    return ()


def threshold_conditions(expr: str, op: str, value: float) -> tuple[Condition, ...]:
    """A KPI alert's one condition, from the KPI expression and its typed threshold
    (none when the KPI expression does not parse: lint reports that)."""
    try:
        return (Condition(unparen(pp.parse(expr)), op, value),)
    except ValueError:
        return ()
