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
          - expr: unified_cache_hit_ratio{cache_level="overall"}   # a KPI's expr: colours come from the KPI
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

Expressions are plain PromQL: the renderer adds `job=~"$job", instance=~"$instance"` to
every selector, so specs never name an environment. Grafana's interval variables
(`$__rate_interval`, `$__interval`, `$__range`) may stand in a range.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from pydantic import Field, field_validator, model_validator

from monspec.spec.base import Duration, LintConfig, Located, Placed, Strict, grafana_uid

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
    """One query of a panel."""

    expr: str = Field(min_length=1, description="PromQL; job and instance filters are added when rendering.")
    legend: str = Field("", description="Legend format, e.g. `L1 Hit Rate` or `{{instance}}`.")
    unit: str | None = Field(None, description="Grafana unit id (percentunit, s, ops, bytes, bool) or a catalog "
                                               "unit (ratio, seconds, …); defaults to the panel's unit.")
    thresholds: list[float] | None = Field(
        None, description="Colour steps, worst first: ascending when higher is better, descending when lower is "
                          "better. Not for a KPI's expression: its colours come from the KPI.")
    format: Literal["time_series", "table", "heatmap"] | None = Field(
        None, description="Query result format; defaults to the visualization's natural one.")
    yAxes: Literal["left", "right"] = Field("left", description="Axis of this series in a time series panel.")
    instant: bool | None = Field(None, description="Instant query (default: true for table panels).")


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
        """(panel, field path below the panel, expression for lint) for every target."""
        for panel in self.panels:
            for i, target in enumerate(panel.targets):
                yield panel, ("targets", i, "expr"), lintable(target.expr)


# Grafana unit ids a panel may name, and the catalog's units they stand for.
GRAFANA_UNITS = (
    "percentunit", "percent", "s", "ms", "µs", "ns", "ops", "opm", "reqps", "rps", "wps", "iops",
    "bytes", "decbytes", "bits", "bool", "bool_yes_no", "bool_on_off", "short", "none",
)
CATALOG_UNITS = {
    "ratio": "percentunit", "percent": "percent", "seconds": "s", "bytes": "bytes", "ops": "ops",
    "operations": "short", "keys": "short", "entries": "short", "errors": "short", "connections": "short",
    "cycles": "short", "info": "none", "bool": "bool", "none": "none",
}


def grafana_unit(unit: str | None) -> str | None:
    """The Grafana unit id for a spec unit (a Grafana id or a catalog unit); None when unknown or unset."""
    if unit is None:
        return None
    if unit in GRAFANA_UNITS:
        return unit
    return CATALOG_UNITS.get(unit)


def known_units() -> list[str]:
    return sorted(set(GRAFANA_UNITS) | set(CATALOG_UNITS))


def stable_uid(text: str) -> str:
    """A Grafana uid from a name: lower-case words joined by `-`, at most 40 characters."""
    import hashlib

    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
    if len(slug) <= 40:
        return slug
    digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
    return f"{slug[:31].rstrip('-')}-{digest}"


def dashboard_uid(project_name: str, key: str, dashboard: Dashboard) -> str:
    return dashboard.uid or stable_uid(f"{project_name}-{key}")


def kpi_for_expr(kpis: dict, expr: str):
    """The KPI whose expression this is (whitespace ignored), or None: its thresholds colour the panel.

    A dict lookup in an index of the KPIs built once per KPI set (the last one asked about), not a
    regex per KPI per target, which made dashboards quadratic in the size of the spec set."""
    global _last_index
    source, size, index = _last_index
    if source is not kpis or size != len(kpis):
        index = {}
        for kpi in kpis.values():
            index.setdefault(_squeezed(kpi.expr), kpi)
        _last_index = (kpis, len(kpis), index)
    return index.get(_squeezed(expr))


def _squeezed(expr: str) -> str:
    return "".join(expr.split())


_last_index: tuple[dict, int, dict] = ({}, 0, {})
