"""The series a spec set can query: catalog metrics, their histogram parts, and recorded series."""
from __future__ import annotations

from dataclasses import dataclass, field

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
