"""The series a spec set can query: catalog metrics, their histogram parts, and recorded series."""
from __future__ import annotations

from dataclasses import dataclass, field

from monspec import promql
from monspec.spec import SpecSet
from monspec.spec.models import Metric, RecordingRule

TARGET_LABELS = ("job", "instance")


@dataclass
class Series:
    """A queryable series name with its type and allowed label values (None: any value)."""

    name: str
    type: str  # counter | gauge | histogram_bucket | histogram_sum | histogram_count | recorded
    unit: str
    labels: dict[str, set[str] | None] = field(default_factory=dict)
    metric: Metric | None = None
    rules: list[RecordingRule] = field(default_factory=list)

    def allows(self, label: str) -> bool:
        return label in self.labels or label in TARGET_LABELS or label == "__name__"

    def values(self, label: str) -> set[str] | None:
        return self.labels.get(label)


@dataclass
class Catalog:
    series: dict[str, Series]
    histograms: dict[str, Metric]

    def get(self, name: str) -> Series | None:
        return self.series.get(name)

    def carries(self, name: str, label: str) -> bool:
        """Whether series of this name can carry `label`: scraped series carry job and instance;
        a recorded series only what its rules' aggregations keep."""
        series = self.series.get(name)
        if series is None or series.type != "recorded":
            return series is None or label in TARGET_LABELS or label in series.labels
        return label in series.labels or any(self.expr_carries(rule.expr, label) for rule in series.rules)

    def expr_carries(self, expr: str, label: str) -> bool:
        """Whether the series `expr` returns can carry `label` (promql.keeps_label over this catalog)."""
        return promql.keeps_label(expr, label, self._rule_exprs, self._raw_has)

    def _rule_exprs(self, name: str) -> list[str]:
        series = self.series.get(name)
        return [rule.expr for rule in series.rules] if series is not None and series.type == "recorded" else []

    def _raw_has(self, name: str, label: str) -> bool:
        series = self.series.get(name)
        return series is None or label in TARGET_LABELS or label in series.labels


def build_catalog(specs: SpecSet) -> Catalog:
    series: dict[str, Series] = {}
    histograms: dict[str, Metric] = {}
    for name, metric in specs.metrics.items():
        labels = {k: (None if v == "any" else set(v)) for k, v in metric.labels.items()}
        if metric.type == "histogram":
            histograms[name] = metric
            series[f"{name}_bucket"] = Series(f"{name}_bucket", "histogram_bucket", metric.unit, {**labels, "le": None}, metric)
            series[f"{name}_sum"] = Series(f"{name}_sum", "histogram_sum", metric.unit, labels, metric)
            series[f"{name}_count"] = Series(f"{name}_count", "histogram_count", "operations", labels, metric)
        else:
            series[name] = Series(name, metric.type, metric.unit, labels, metric)
    for rule in specs.recording_rules:
        entry = series.setdefault(rule.record, Series(rule.record, "recorded", rule.unit))
        if entry.type != "recorded":
            continue  # a recording rule shadowing a metric is reported by lint
        entry.rules.append(rule)
        for label, value in rule.labels.items():
            values = entry.labels.setdefault(label, set())
            if values is not None:
                values.add(value)
    # Prometheus adds `up` for every target it scrapes.
    series.setdefault("up", Series("up", "gauge", "bool", {}))
    return Catalog(series, histograms)
