"""Grafana dashboards as specs, in a format close to the guide's.

A complete example (`specs/dashboards/*.yaml`):

```yaml
dashboards:
  executive_overview:
    title: UnifiedConnectionManager - Executive Overview
    tags: [cache, performance, redis]
    refresh: 30s
    time: {from: now-1h, to: now}
    timezone: browser
    panels:
      - title: Overall Cache Performance
        visualization: stat
        targets:
          - kpi: overall_hit_rate     # the KPI's expression; colours, description and links come from the KPI
            legend: Hit Rate
            unit: percentunit
      - title: Average Response Time
        visualization: stat
        targets:
          - expr: sum(rate(unified_cache_operation_duration_seconds_sum[5m])) / sum(rate(unified_cache_operation_duration_seconds_count[5m]))
            legend: Avg Response Time
            unit: s
            thresholds: [0.050, 0.010, 0.005]   # descending: lower is better
      - title: Cache Hit Rate Trend (24h)
        visualization: timeseries             # the guide's "graph"
        timespan: 24h
        unit: percentunit
        targets:
          - expr: unified_cache_hit_ratio{cache_level="l1"}
            legend: L1 Hit Rate
        thresholds:                          # lines; a value may come from a KPI
          - {kpi: overall_hit_rate, level: warning, color: yellow, label: Warning Threshold}
          - {value: 0.70, color: red, label: Critical Threshold}
```

A target names a KPI (`kpi:`) or gives its own `expr:`, never both. Expressions are plain
PromQL: the renderer adds `job=~"$job", instance=~"$instance"` to
every selector, so specs never name an environment. Grafana's interval variables
(`$__rate_interval`, `$__interval`, `$__range`) may stand in a range.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from monspec.spec.base import Duration, LintConfig, Located, Placed, Strict, grafana_uid

if TYPE_CHECKING:
    from monspec.spec.models import Kpi

Visualization = Literal["timeseries", "graph", "stat", "heatmap", "table"]
COLOR = re.compile(r"^(#[0-9a-fA-F]{6}|[a-z]+(-[a-z]+)*)$")

# Grafana's interval variables, replaced by a zero-padded `5m` of the same length so
# the expression parses as PromQL and every offset still points into the spec text.
INTERVAL_VARIABLES = re.compile(r"\$\{__(?:rate_interval|interval|range)\}|\$__(?:rate_interval|interval|range)(?![A-Za-z0-9_])")


def lintable(expr: str) -> str:
    """The expression with Grafana interval variables replaced by durations of the same length."""
    return INTERVAL_VARIABLES.sub(lambda m: "5m".rjust(len(m.group(0)), "0"), expr)


class TimeRange(Strict):
    from_: str = Field("now-1h", alias="from", description="Start of the range, e.g. now-1h.")
    to: str = Field("now", description="End of the range, e.g. now.")


class Target(Placed):
    """One query of a panel: a KPI by name, or an expression of its own."""

    expr: str | None = Field(None, min_length=1, description="PromQL; job and instance filters are added when rendering.")
    kpi: str | None = Field(None, description="Show this KPI: its expression, its colours, its description and alert links.")
    legend: str = Field("", description="Legend format, e.g. `L1 Hit Rate` or `{{instance}}`.")
    unit: str | None = Field(None, description="Grafana unit id (percentunit, s, ops, bytes, bool) or a catalog "
                                               "unit (ratio, seconds, …); defaults to the panel's unit.")
    thresholds: list[float] | None = Field(
        None, description="Colour steps, worst first: ascending when higher is better, descending when lower is "
                          "better. Not with `kpi`: its colours come from the KPI.")
    format: Literal["time_series", "table", "heatmap"] | None = Field(
        None, description="Query result format; defaults to the visualization's natural one.")
    yAxes: Literal["left", "right"] = Field("left", description="Axis of this series in a time series panel.")
    instant: bool | None = Field(None, description="Instant query (default: true for table panels).")

    @model_validator(mode="after")
    def _one_query(self):
        if (self.expr is None) == (self.kpi is None):
            raise ValueError("give exactly one of `expr` or `kpi`")
        return self

    def kpi_of(self, kpis: Mapping[str, Kpi]) -> Kpi | None:
        """The KPI this target names, None when it names none (or one that does not exist: lint reports it)."""
        return kpis.get(self.kpi) if self.kpi is not None else None

    def query(self, kpis: Mapping[str, Kpi]) -> str | None:
        """The PromQL this target shows: its own or its KPI's; None for an unknown KPI."""
        kpi = self.kpi_of(kpis)
        return kpi.expr if kpi is not None else self.expr


class ThresholdLine(Placed):
    """A horizontal line on a time series panel, from a value or a KPI's warning/critical threshold."""

    value: float | None = None
    kpi: str | None = Field(None, description="Take the value from this KPI's `level` threshold.")
    level: Literal["warning", "critical"] | None = None
    color: str = Field(description="Grafana colour name (red, yellow, …) or #rrggbb.")
    label: str = Field("", description="What the line means; shown in the panel description.")

    @field_validator("color")
    @classmethod
    def _color(cls, value: str) -> str:
        if not COLOR.match(value):
            raise ValueError(f"expected a colour name such as `red` or `#e02f44`, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_source(self):
        if (self.value is None) == (self.kpi is None):
            raise ValueError("give exactly one of `value` or `kpi` (with `level`)")
        if self.kpi is not None and self.level is None:
            raise ValueError("a line from a `kpi` needs `level: warning` or `level: critical`")
        if self.kpi is None and self.level is not None:
            raise ValueError("`level` only goes with `kpi`")
        return self


class Panel(Located):
    title: str = Field(min_length=1)
    visualization: Visualization = Field(description="timeseries (the guide's `graph`), stat, heatmap or table.")
    description: str = ""
    unit: str | None = Field(None, description="Default unit of the panel's targets.")
    timespan: Duration | None = Field(None, description="Relative time range of this panel, e.g. 24h.")
    width: int | None = Field(None, ge=1, le=24, description="Width in grid columns (24 across).")
    height: int | None = Field(None, ge=1, le=64, description="Height in grid rows.")
    targets: list[Target] = Field(default_factory=list)
    thresholds: list[ThresholdLine] = Field(default_factory=list, description="Threshold lines (time series panels).")
    lint: LintConfig | None = None

    @property
    def panel_type(self) -> str:
        return "timeseries" if self.visualization == "graph" else self.visualization


class Dashboard(Located):
    title: str = Field(min_length=1)
    uid: str | None = Field(None, description="Grafana uid (at most 40 characters); default: project name and key.")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    refresh: Duration = "30s"
    time: TimeRange = Field(default_factory=lambda: TimeRange.model_validate({}))
    timezone: Literal["browser", "utc"] = "browser"
    component: str | None = Field(None, description="The project component whose job the `$job` variable starts at.")
    panels: list[Panel] = Field(default_factory=list)

    @field_validator("uid")
    @classmethod
    def _uid(cls, value: str | None) -> str | None:
        return grafana_uid(value)

    def expression_fields(self) -> Iterator[tuple[Panel, tuple, str]]:
        """(panel, field path below the panel, expression for lint) for every target with its own
        expression; a target naming a KPI is checked once, at the KPI."""
        for panel in self.panels:
            for i, target in enumerate(panel.targets):
                if target.expr is not None:
                    yield panel, ("targets", i, "expr"), lintable(target.expr)
