"""test/uncovered: a rule that no generated promtool test covers (a condition the test planner cannot
drive to a value, PromQL it cannot replay). Located at the spec entity the rule comes from; a spec
that accepts the gap says why with `lint: {disable: [test/uncovered], reason: "…"}`, and
`monspec test` fails on every gap that is not acknowledged so."""
from __future__ import annotations


def check(ctx) -> None:
    import monspec.render  # noqa: F401  (the planner writes through the render package; load it first)
    from monspec.promtest.files import uncovered

    if any(p.severity == "error" for p in ctx.problems):
        return  # generate stops on those anyway; an uncovered rule is beside the point until they are fixed
    for gap in uncovered(ctx.model):
        entity = gap.rule.entity
        if not hasattr(entity, "problem"):
            continue
        ctx.report(entity, entity.problem(
            "test/uncovered", f"no generated promtool test covers {gap.what}: {gap.reason}",
            key=bool(entity.path) and isinstance(entity.path[-1], str),  # a mapping key, else the list item
            severity="warning",
            hint="simplify the condition to comparisons of series with numbers (joined by and, or, unless), "
                 "or accept the gap: lint: {disable: [test/uncovered], reason: \"…\"}"))
