"""An alert's condition as data: `<lhs> <op> <value>` comparisons joined by `and`.

KPI alerts build theirs from the typed threshold; `expr:` alerts are parsed once, here. Lint and
the promtool-test planner read these instead of parsing the rule's PromQL text back.
"""
from __future__ import annotations

from dataclasses import dataclass

import promql_parser as pp

COMPARISONS = ("==", "!=", ">", "<", ">=", "<=")


@dataclass(frozen=True)
class Condition:
    lhs: pp.Expr  # parsed, without enclosing parentheses
    op: str
    value: float

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
        return conditions_of(node.args[0]), True
    return conditions_of(node), False


def conditions_of(node: pp.Expr) -> tuple[Condition, ...]:
    node = unparen(node)
    if isinstance(node, pp.BinaryExpr) and str(node.op) == "and":
        left, right = conditions_of(node.lhs), conditions_of(node.rhs)
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
