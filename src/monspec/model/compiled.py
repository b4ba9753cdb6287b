"""The compiled model: one per run, built from the loaded specs, read by lint and every renderer.

Rule groups come from an explicit list of producers (the project's recording rules, its alerts,
its SLOs' recordings and burn-rate alerts, then the imported groups); a new kind of rule is one
more producer. A producer reads the model, so what the model builds once (each SLO's objective)
is built once for the rules too.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from monspec.model.catalog import Catalog, build_catalog
from monspec.model.objective import Objective, objectives
from monspec.model.placement import Placement, place
from monspec.model.rules import AlertRule, RecordRule, RuleGroup, alert_group, imported_groups, recording_group
from monspec.model.slo_board import KEY as SLO_BOARD_KEY
from monspec.model.slo_board import slo_board
from monspec.spec import SpecSet
from monspec.spec.dashboards import Dashboard


@dataclass(frozen=True)
class Model:
    specs: SpecSet
    catalog: Catalog
    # Work lint and the renderers both need (the promtool test plan, each dashboard's model),
    # done once per model: keyed by the module that owns it.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def groups(self) -> tuple[RuleGroup, ...]:
        """Every rule group, as rules.yml lists them; empty groups left out."""
        return tuple(group for produce in PRODUCERS for group in produce(self) if group.rules)

    @property
    def recording_rules(self) -> list[RecordRule]:
        """The project's own recording rules (imported groups excepted)."""
        return self._own(f"{self.specs.project.name}.recording")

    @property
    def alert_rules(self) -> list[AlertRule]:
        """The project's own alerts: hand-written, KPI-derived, then the absence alert."""
        return self._own(f"{self.specs.project.name}.alerts")

    @property
    def all_alert_rules(self) -> list[AlertRule]:
        """Every alert rules.yml holds, imported ones included."""
        return [rule for group in self.groups for rule in group.rules if isinstance(rule, AlertRule)]

    @cached_property
    def objectives(self) -> tuple[Objective, ...]:
        """Each SLO's objective, built once: its rule group, the SLO dashboard, its tests and the
        runbook all read them (each Objective builds its recordings and burn-rate alerts once)."""
        return tuple(objectives(self.specs))

    @cached_property
    def dashboards(self) -> dict[str, Dashboard]:
        """The spec set's dashboards in spec order, then the generated SLO dashboard when there are SLOs."""
        boards = dict(self.specs.dashboards)
        slos = slo_board(self.specs.project, self.objectives)
        if slos is not None and self.slo_board_key is not None:
            boards[self.slo_board_key] = slos
        return boards

    @property
    def slo_board_key(self) -> str | None:
        """The generated SLO dashboard's key among `dashboards`: `slos`, or `slos-generated` when the
        specs have a `slos` dashboard of their own (None without SLOs)."""
        if not self.specs.slos:
            return None
        return SLO_BOARD_KEY if SLO_BOARD_KEY not in self.specs.dashboards else f"{SLO_BOARD_KEY}-generated"

    @cached_property
    def placement(self) -> Placement:
        """Which dashboard shows which alert (monspec.model.placement)."""
        return place(self.specs, self.dashboards, self.all_alert_rules)

    def _own(self, name: str) -> list:
        return next((list(g.rules) for g in self.groups if g.name == name and g.origin == "project"), [])


def _recordings(model: Model) -> list[RuleGroup]:
    return recording_group(model.specs)


def _alerts(model: Model) -> list[RuleGroup]:
    return alert_group(model.specs)


def _slos(model: Model) -> list[RuleGroup]:
    """One rule group per SLO: its recordings, then its alerts (evaluated in that order)."""
    return [objective.group for objective in model.objectives]


def _imported(model: Model) -> list[RuleGroup]:
    return imported_groups(model.specs)


GroupProducer = Callable[[Model], list[RuleGroup]]

PRODUCERS: tuple[GroupProducer, ...] = (_recordings, _alerts, _slos, _imported)


def build_model(specs: SpecSet) -> Model:
    model = Model(specs, build_catalog(specs))
    _ = model.groups  # built now: a spec a producer refuses fails here, before lint or any renderer
    return model
