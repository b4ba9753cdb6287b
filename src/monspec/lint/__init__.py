"""Lint: every check family is a module with a `check(ctx)` function; each problem has a stable id.

A spec entity can turn a check off with a reason:
`lint: {disable: [promql/counter-without-rate], reason: "…"}`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from monspec.checks import BY_ID
from monspec.errors import Problem
from monspec.lint import (
    aggregation,
    alerts,
    components,
    coverage,
    dashboards,
    hygiene,
    imported,
    ranges,
    references,
    routing,
    rulers,
    syntax,
    target,
    thresholds,
    types,
    units,
)
from monspec.lint.sites import ExprSite, expression_sites
from monspec.model import Model
from monspec.model.catalog import Catalog
from monspec.spec import SpecSet

# coverage last: it plans the promtool tests only when no other family found an error.
FAMILIES = (aggregation, alerts, components, dashboards, hygiene, imported, ranges, references, routing, rulers,
            syntax, target, thresholds, types, units, coverage)


@dataclass
class LintContext:
    model: Model
    sites: list[ExprSite]
    problems: list[Problem] = field(default_factory=list)

    @property
    def specs(self) -> SpecSet:
        return self.model.specs

    @property
    def catalog(self) -> Catalog:
        return self.model.catalog

    def report(self, entity, problem: Problem) -> None:
        """Record a problem unless the entity disabled its check id; ids and severities are the registry's."""
        check = BY_ID.get(problem.id)
        if check is None or check.severity != problem.severity:
            raise ValueError(f"lint problem {problem.id} ({problem.severity}) does not match monspec.checks")
        config = getattr(entity, "lint", None)
        if config is not None and problem.id in config.disable:
            return
        self.problems.append(problem)


def run_lint(model: Model, families: tuple[str, ...] | None = None) -> list[Problem]:
    """All problems of all check families, sorted by file and position."""
    ctx = LintContext(model, expression_sites(model.specs))
    for family in FAMILIES:
        if families is None or family.__name__.rsplit(".", 1)[-1] in families:
            family.check(ctx)
    unique = {(p.id, str(p.position), p.message): p for p in ctx.problems}
    return sorted(unique.values(), key=lambda p: (str(p.position.file) if p.position else "", p.position.line if p.position else 0,
                                                  p.position.col if p.position else 0, p.id))
