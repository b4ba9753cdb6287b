"""Every PromQL expression in a spec set, with the entity and field it came from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monspec import promql
from monspec.spec import SpecSet


@dataclass
class ExprSite:
    entity: Any  # a Located model
    field: tuple  # path below the entity, e.g. ("expr",)
    expr: str
    kind: str  # recording | kpi | alert | panel

    @property
    def label(self) -> str:
        return f"{self.kind} `{self.entity.name}`"

    def analysis(self) -> promql.Analysis | None:
        try:
            return promql.parse(self.expr)
        except promql.PromQLSyntaxError:
            return None

    def problem(self, id: str, message: str, offset: int | None = None, **kw):
        source = self.entity.source
        path = self.entity.path + self.field
        if offset is not None:
            return source.problem(id, message, path, offset=offset, **kw)
        return source.problem(id, message, path, **kw)


def expression_sites(specs: SpecSet) -> list[ExprSite]:
    sites = [ExprSite(rule, ("expr",), rule.expr, "recording") for rule in specs.recording_rules]
    sites += [ExprSite(kpi, ("expr",), kpi.expr, "kpi") for kpi in specs.kpis.values()]
    sites += [ExprSite(alert, ("expr",), alert.expr, "alert") for alert in specs.alerts.values() if alert.expr]
    for dashboard in getattr(specs, "dashboards", {}).values():
        sites += dashboard_sites(dashboard)
    return sites


def dashboard_sites(dashboard: Any) -> list[ExprSite]:
    """Targets of every panel; the dashboards model provides `expression_fields()`."""
    return [ExprSite(entity, field, expr, "panel") for entity, field, expr in dashboard.expression_fields()]
