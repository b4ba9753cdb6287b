"""Conventions of the horizontally scaled rulers (Grafana Mimir, Cortex, Thanos), so the rules
move there unchanged:

- `rule/record-name` (warning): a recording rule's name has the `level:metric:operations` form,
  at least one colon (what `mimirtool rules check` and `cortextool rules check` enforce, after
  the Prometheus naming practice); a name without one reads like a raw metric an exporter sends.
- unique group names per namespace are `rule-group/duplicate-name` (lint/imported.py): the
  project's rules.yml is one namespace.
"""
from __future__ import annotations


def check(ctx) -> None:
    specs = ctx.specs
    for rule in specs.recording_rules:
        _record_name(ctx, rule, rule, rule.record)
    for group in (getattr(specs, "rule_groups", {}) or {}).values():
        for rule in group.rules:
            if rule.record:
                _record_name(ctx, group, rule, rule.record)


def _record_name(ctx, owner, rule, record: str) -> None:
    if ":" in record:
        return
    ctx.report(owner, rule.problem(
        "rule/record-name", f"recording rule `{record}` has no colon: Mimir, Cortex and Thanos tools expect "
        "`level:metric:operations`", "record", severity="warning",
        hint=f"e.g. `job_instance:{record}:<operation>`, or disable with a reason when users rely on the name"))
