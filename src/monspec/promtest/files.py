"""Which promtool test file each scenario goes to, and which rules that file loads.

promtool evaluates every rule of a test file's `rule_files` at every step of every test group,
so one test file over the whole rules.yml costs tests x rules: quadratic in the size of the spec
set (5 s at 1x, 301 s at 10x). Here the tests are split by rule chain: a file holds the tests of
one set of recorded series (the recording rules and the alerts reading them) or, for alerts on
raw metrics only, of the alerts reading the same metrics, and loads only those rules (copied from
rules.yml, in the same groups). Each file's cost is bounded by its chain, so the whole is linear.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from monspec.model import Model
from monspec.model.rules import AlertRule, RecordRule, RuleGroup
from monspec.promtest.promsim import Unsupported, selector_names
from monspec.promtest.scenarios import Generator, Scenario, selector_text


@dataclass
class Uncovered:
    """A rule no generated test covers, the spec entity it comes from, and why."""

    rule: AlertRule | RecordRule
    what: str  # "alert X" / "recording rule x{...}"
    reason: str

    @property
    def acknowledged(self) -> str | None:
        """The spec's reason when it turned `test/uncovered` off for this rule's entity, else None."""
        config = getattr(self.rule.entity, "lint", None)
        return config.reason if config is not None and "test/uncovered" in config.disable else None

    def line(self) -> str:
        reason = self.acknowledged
        return f"{self.what}: {self.reason}" + (f" (acknowledged: {reason})" if reason else "")


@dataclass
class TestFile:
    """One promtool test file: its scenarios, the rules they need and the rules it cannot cover."""

    name: str
    records: list[RecordRule] = field(default_factory=list)
    alerts: list[AlertRule] = field(default_factory=list)
    scenarios: list[tuple[Scenario, str]] = field(default_factory=list)  # (scenario, "record" | "alert")
    uncovered: list[Uncovered] = field(default_factory=list)

    def groups(self, model: Model, places: dict[int, tuple[int, int]]) -> list[RuleGroup]:
        """The file's rules in rules.yml's own groups, so `group_eval_order` reads the same.
        `places` (from `rule_places`) says where each rule stands, so a file costs its own rules."""
        by_group: dict[int, list[tuple[int, AlertRule | RecordRule]]] = {}
        for rule in self.records + self.alerts:
            group, at = places[id(rule)]
            by_group.setdefault(group, []).append((at, rule))
        out = []
        for index in sorted(by_group):
            g = model.groups[index]
            out.append(RuleGroup(g.name, g.interval, [rule for _, rule in sorted(by_group[index], key=lambda e: e[0])],
                                 g.limit, g.origin))
        return out


def rule_places(model: Model) -> dict[int, tuple[int, int]]:
    """(group index, index in the group) of every rule of rules.yml, by the rule's id."""
    return {id(rule): (g, r) for g, group in enumerate(model.groups) for r, rule in enumerate(group.rules)}


def plan(model: Model) -> tuple[Generator, list[TestFile]]:
    """The generator (for the writer's intervals) and the test files, in rules.yml order; planned once
    per model (lint's coverage check and the renderer both ask)."""
    if __name__ not in model.memo:
        model.memo[__name__] = _plan(model)
    return model.memo[__name__]


def uncovered(model: Model) -> list[Uncovered]:
    """Every rule of the model that no generated test covers, in rules.yml order."""
    return [gap for test_file in plan(model)[1] for gap in test_file.uncovered]


def _plan(model: Model) -> tuple[Generator, list[TestFile]]:
    gen = Generator(model)
    files: dict[tuple, TestFile] = {}
    names: set[str] = set()

    def file_for(key: tuple, head: str, recorded: frozenset[str]) -> TestFile:
        if key not in files:
            test_file = files[key] = TestFile(_unique(_slug(head), names))
            test_file.records = gen.records_of(recorded)
        return files[key]

    for rule in gen.records:
        recorded = _recorded(gen, selector_text(rule.record, rule.labels))
        test_file = file_for(("recorded", recorded), rule.record, recorded)
        try:
            test_file.scenarios.append((gen.record_scenario(rule), "record"))
        except Unsupported as exc:
            test_file.uncovered.append(Uncovered(rule, f"recording rule {selector_text(rule.record, rule.labels)}", str(exc)))
    for alert in model.alert_rules:
        recorded = _recorded(gen, alert.expr)
        key = ("recorded", recorded) if recorded else ("raw", selector_names(alert.expr))
        test_file = file_for(key, alert.name, recorded)
        test_file.alerts.append(alert)
        try:
            test_file.scenarios.extend((scenario, "alert") for scenario in gen.alert_scenarios(alert))
        except Unsupported as exc:
            test_file.uncovered.append(Uncovered(alert, f"alert {alert.name}", str(exc)))
    return gen, list(files.values())


def _recorded(gen: Generator, expr: str) -> frozenset[str]:
    """The recorded series an expression reads, directly or through other recording rules."""
    return frozenset(rule.record for rule in gen.chain(expr))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-") or "rules"


def _unique(slug: str, taken: set[str]) -> str:
    """The slug, numbered when taken (compared without case: some file systems ignore it)."""
    name, n = slug, 1
    while name.lower() in taken:
        n += 1
        name = f"{slug}-{n}"
    taken.add(name.lower())
    return name
