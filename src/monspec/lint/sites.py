"""Every PromQL expression in a spec set, with the entity and field it came from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monspec import promql
from monspec.spec import SpecSet
from monspec.spec.slos import WINDOW_TEMPLATE


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
    return sites + slo_sites(specs)


def dashboard_sites(dashboard: Any) -> list[ExprSite]:
    """Targets of every panel; the dashboards model provides `expression_fields()`."""
    return [ExprSite(entity, field, expr, "panel") for entity, field, expr in dashboard.expression_fields()]


@dataclass
class SloSite(ExprSite):
    """An SLI selector as `rate(<selector>[5m])`; offsets map back to the selector's text in the spec."""

    slo: str = ""
    prefix: int = 0  # characters added before the selector
    inserted_at: int = -1  # offset in the spec text after which `inserted` characters were added
    inserted: int = 0

    @property
    def label(self) -> str:
        return f"the SLI of SLO `{self.slo}`"

    def problem(self, id: str, message: str, offset: int | None = None, **kw):
        if offset is not None:
            offset -= self.prefix
            if self.inserted_at >= 0 and offset > self.inserted_at:
                offset = max(self.inserted_at, offset - self.inserted)
            offset = max(0, offset)
        return super().problem(id, message, offset, **kw)


def slo_sites(specs) -> list[ExprSite]:
    sites: list[ExprSite] = []
    for slo in specs.slos.values():
        sli = slo.sli
        if sli.ratio is not None:
            for name in ("errors", "good", "total"):
                text = getattr(sli.ratio, name)
                if text is not None and is_selector(text):
                    sites.append(SloSite(sli.ratio, (name,), f"rate({text}[5m])", "slo", slo.name, prefix=5))
        elif sli.latency is not None and is_selector(sli.latency.histogram):
            text = sli.latency.histogram
            stripped = text.lstrip()
            end = len(text) - len(stripped) + len(stripped.split("{", 1)[0].rstrip())
            expr = f"rate({text[:end]}_count{text[end:]}[5m])"
            sites.append(SloSite(sli.latency, ("histogram",), expr, "slo", slo.name, prefix=5, inserted_at=end, inserted=6))
        elif sli.raw is not None:
            text = sli.raw.error_ratio
            same_length = WINDOW_TEMPLATE.sub(lambda m: "5m".rjust(len(m.group(0)), "0"), text)
            sites.append(SloSite(sli.raw, ("error_ratio",), same_length, "slo", slo.name))
    return sites


def is_selector(text: str) -> bool:
    """One plain series selector (what an SLI's ratio and latency fields hold)."""
    try:
        analysis = promql.parse(text.strip())
    except promql.PromQLSyntaxError:
        return False
    return type(analysis.ast).__name__ == "VectorSelector"
