"""Typed models of the spec files; unknown fields are errors.

A complete example (one file may hold any of these sections; most projects keep
one section per file):

```yaml
project:
  name: unified-cache
  job: unified-cache
  runbook_base_url: https://runbooks.example.com/unified-cache/alerts.md
metrics:
  unified_cache_operations_total:
    type: counter
    unit: operations
    help: Cache lookups by level and outcome.
    labels: {cache_level: [l1, l2, l3], status: [hit, miss]}
recording_rules:
  - record: unified_cache_hit_ratio
    labels: {cache_level: l1}
    unit: ratio
    help: Share of L1 lookups that hit.
    expr: |
      sum by (job, instance) (rate(unified_cache_operations_total{cache_level="l1",status="hit"}[5m]))
      / sum by (job, instance) (rate(unified_cache_operations_total{cache_level="l1"}[5m]))
kpis:
  l1_hit_rate:
    expr: unified_cache_hit_ratio{cache_level="l1"}
    unit: ratio
    target: ">0.90"
    warning: "<0.85"
    critical: "<0.70"
    description: Percentage of requests served from L1 memory cache
alerts:
  cache_hit_rate_critical:
    kpi: overall_hit_rate
    level: critical
    for: 2m
    severity: critical
    summary: "Cache hit rate critically low at {{ $value | humanizePercentage }}"
    description: Overall cache hit rate has dropped below 70% for more than 2 minutes.
    steps: [Check cache warming status, Verify Redis connectivity]
```
"""
from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from monspec.spec.base import (
    LABEL_NAME,
    METRIC_NAME,
    SNAKE_KEY,
    Duration,
    Interval,
    LabelName,
    LintConfig,
    Located,
    Name,
    Placed,
    Severity,
    Strict,
    ThresholdValue,
    Unit,
    grafana_uid,
)
from monspec.spec.dashboards import Dashboard
from monspec.spec.routing import Routing
from monspec.spec.slos import Slo

HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$")
ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]{1,200}$")


# Grafana versions dashboards can target, with the dashboard schemaVersion each one writes
# itself: a dashboard at that version is not migrated when Grafana loads it.
GRAFANA_SCHEMA_VERSIONS = {"11.6": 41, "10.4": 39}


class GrafanaSettings(Placed):
    """How the dashboards meet Grafana: target version, folder, provisioning."""

    version: Literal["11.6", "10.4"] = Field(
        "11.6", description="Grafana the dashboards are written for: its schemaVersion (11.6: 41, 10.4: 39) and "
                            "panel options, so Grafana loads them without migrating.")
    folder: str | None = Field(None, description="Folder of the dashboards; defaults to the project's `title`.")
    folder_uid: Annotated[str | None, AfterValidator(grafana_uid)] = Field(
        None, description="Uid of that folder; defaults to a slug of its name.")
    allow_ui_updates: bool = Field(
        False, description="Provisioning's `allowUiUpdates`: when true, dashboards are editable in the UI and "
                           "`monspec push` may overwrite provisioned ones; UI edits are lost on the next reload.")
    folders_from_files_structure: bool = Field(False, description="Provisioning's `foldersFromFilesStructure`.")
    dashboards_path: str | None = Field(None, description="Where Grafana reads the dashboard files "
                                               "(default /var/lib/grafana/dashboards/<project name>).")
    lint: LintConfig | None = None

    @property
    def schema_version(self) -> int:
        return GRAFANA_SCHEMA_VERSIONS[self.version]


class Component(Placed):
    """One scrape job of a project: an API, its queue consumer, a batch job's exporter."""

    job: str = Field(description="Prometheus scrape job name.")
    scrape_target: str = Field("127.0.0.1:8000", description="host:port that generated/prometheus/prometheus.yml scrapes.")
    title: str | None = None
    selector: dict[str, str] | None = Field(
        None, description="Label matchers added to every selector of this component's metrics in rules.yml "
        "(as a mixin's config): point the same specs at `job: api-prod` without editing expressions. "
        "Default: {job: <job>} when the project has several components, none when it has one.")

    @field_validator("selector")
    @classmethod
    def _labels(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for label in value or {}:
            if not LABEL_NAME.match(label) or label == "__name__":
                raise ValueError(f"{label!r} is not a label name a selector may set")
        return value


class KubernetesMeta(Placed):
    """Metadata of generated/kubernetes/prometheusrule.yaml: where it goes and the labels the Prometheus
    operator's `ruleSelector` (and `ruleNamespaceSelector`) look for."""

    name: str | None = Field(None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", description="Default: the project's name.")
    namespace: str | None = Field(None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", description="Default: none (kubectl's current).")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels on the manifest, e.g. `release: prometheus` "
                                   "for a kube-prometheus-stack ruleSelector.")


class Project(Placed):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="Short service name, used in rule group names.")
    title: str = Field(description="Human name, used in dashboards and docs.")
    job: str | None = Field(None, description="Prometheus scrape job of a one-component service (else `components`).")
    scrape_target: str = Field("127.0.0.1:8000", description="host:port that generated/prometheus/prometheus.yml scrapes.")
    components: dict[str, Component] = Field(
        default_factory=dict, description="Several scrape jobs (an API and its consumer), each with its own job and "
        "selector; metrics, KPIs, alerts and dashboards name theirs with `component:`.")
    scrape_interval: Interval = "15s"
    evaluation_interval: Interval = "30s"
    absence_for: Duration = Field("2m", description="How long the scrape job may be gone before its absence alert fires.")
    runbook_base_url: str = Field(description="URL of the generated alerts.md; alerts link to its anchors.")
    datasource: str = Field("Prometheus", description="Name of the Grafana Prometheus data source.")
    alertmanager: str = Field("127.0.0.1:9093", description="host:port of Alertmanager in prometheus.yml.")
    labels: dict[LabelName, str] = Field(default_factory=dict, description="Labels added to every alert.")
    absence_alert: bool = Field(True, description="Add the <Name>TargetMissing (no target of `job` up) and "
                                "<Name>TargetDown (one target down) alerts on `up` "
                                "(`monspec import` turns it off so imported rules stay exactly as they were).")
    prometheus_version: str = Field("2.42", pattern=r"^\d+\.\d+$", description="The oldest Prometheus that loads "
                                    "these rules (major.minor); lint flags PromQL it cannot load.")
    kubernetes: KubernetesMeta = Field(default_factory=lambda: KubernetesMeta.model_validate({}), description="PrometheusRule metadata.")
    grafana: GrafanaSettings = Field(default_factory=lambda: GrafanaSettings.model_validate({}),
                                     description="Grafana target and provisioning.")
    templates: str | None = Field(None, description="Folder of the project's own Jinja templates, relative to the specs "
                                                    "folder and inside the repository: a file named like one of monspec's "
                                                    "(rules.yml.j2, alertmanager.yml.j2, alerts.md.j2) replaces it.")

    @field_validator("runbook_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http(s) URL with a host, got {value!r}")
        return value

    @field_validator("scrape_target", "alertmanager")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not HOST_PORT.match(value):
            raise ValueError("expected host:port, such as 127.0.0.1:9100")
        return value

    @field_validator("job")
    @classmethod
    def _job(cls, value: str | None) -> str | None:
        if value is not None and not ONE_LINE.match(value):
            raise ValueError("expected one line of text (1 to 200 characters, no control characters)")
        return value

    @field_validator("components")
    @classmethod
    def _component_keys(cls, value: dict[str, Component]) -> dict[str, Component]:
        for key in value:
            if not SNAKE_KEY.match(key):
                raise ValueError(f"component name {key!r}: use lower_snake_case")
        return value

    @model_validator(mode="after")
    def _one_way_to_name_jobs(self):
        if (self.job is None) == (not self.components):
            raise ValueError("give `job` (the service's one scrape job) or `components` (several, each with its own `job`), not both")
        return self

    @cached_property
    def scrape_jobs(self) -> dict[str, Component]:
        """Every component by name; a project with a plain `job` has one, named after the project
        (computed once: every rule and selector asks)."""
        if self.components:
            return self.components
        return {self.name: Component.model_validate({"job": self.job or "", "scrape_target": self.scrape_target})}

    @property
    def default_component(self) -> str | None:
        """The component an entity belongs to when it names none: the only one, if there is only one."""
        jobs = self.scrape_jobs
        return next(iter(jobs)) if len(jobs) == 1 else None

    def selector(self, component: str) -> dict[str, str]:
        """The label matchers every selector of this component's metrics gets in rules.yml."""
        comp = self.scrape_jobs[component]
        if comp.selector is not None:
            return dict(comp.selector)
        return {"job": comp.job} if len(self.scrape_jobs) > 1 else {}


class Metric(Located):
    type: Literal["counter", "gauge", "histogram"]
    unit: Unit
    help: str = Field(min_length=1)
    labels: dict[str, list[str] | Literal["any"]] = Field(default_factory=dict)
    aggregation: Literal["sum", "max", "min", "avg", "none"] = "sum"
    buckets: list[float] | None = None
    unverified: bool = Field(False, description="Set by `monspec import` for metrics nobody has checked yet.")
    component: str | None = Field(None, description="The project component that exports it (required with several).")

    @model_validator(mode="after")
    def _buckets(self):
        if self.type == "histogram" and not self.buckets and not self.unverified:
            raise ValueError("a histogram needs `buckets`, the bucket bounds the exporter uses")
        if self.type != "histogram" and self.buckets:
            raise ValueError(f"`buckets` only belongs on a histogram, this metric is a {self.type}")
        if self.buckets and self.buckets != sorted(set(self.buckets)):
            raise ValueError("`buckets` must be strictly increasing")
        return self

    def label_values(self, label: str) -> list[str] | None:
        """Allowed values, None when any value is allowed."""
        values = self.labels.get(label)
        return None if values == "any" else values


class RecordingRule(Located):
    record: str
    expr: str
    labels: dict[LabelName, str] = Field(default_factory=dict)
    unit: Unit
    help: str = Field(min_length=1)
    empty_when_healthy: bool = False
    lint: LintConfig | None = None

    @field_validator("record")
    @classmethod
    def _record(cls, value: str) -> str:
        if not METRIC_NAME.match(value):
            raise ValueError(f"{value!r} is not a valid metric name")
        return value


class Kpi(Located):
    expr: str = Field(description="PromQL giving the KPI's value per instance.")
    title: str | None = None
    description: str = Field(min_length=1)
    unit: Unit
    target: ThresholdValue | None = None
    goal: ThresholdValue | None = Field(None, description="The guide's Performance Target, stricter than `target`.")
    warning: ThresholdValue | None = None
    critical: ThresholdValue | None = None
    for_: Duration = Field("5m", alias="for")
    empty_when_healthy: bool = False
    note: str | None = None
    component: str | None = Field(None, description="The project component it measures (required with several).")
    page: bool = Field(False, description="Whether its derived critical alert pages (carries `page: \"true\"`); "
                       "a threshold on a KPI is a chat message unless the spec says it is worth waking someone.")
    lint: LintConfig | None = None

    @property
    def display_title(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()


class Alert(Located):
    expr: str | None = Field(None, description="PromQL; mutually exclusive with `kpi`.")
    kpi: str | None = Field(None, description="Alert when this KPI crosses its `level` threshold.")
    level: Literal["warning", "critical"] | None = None
    for_: Duration | None = Field(None, alias="for")
    keep_firing_for: Duration | None = None
    severity: Severity
    summary: str = Field(min_length=1)
    description: str = Field(min_length=1)
    steps: list[str] = Field(default_factory=list, description="Troubleshooting steps, shown in the runbook.")
    impact: str | None = None
    runbook: str | None = Field(None, description="Runbook URL; defaults to this alert's section of the generated docs.")
    labels: dict[LabelName, str] = Field(default_factory=dict)
    annotations: dict[LabelName, str] = Field(default_factory=dict)
    empty_when_healthy: bool = True
    component: str | None = Field(None, description="The project component it watches (default: its KPI's, or the only one).")
    page: bool | None = Field(None, description="Whether it pages (label `page: \"true\"`); default: when severity is critical.")
    parent: str | None = Field(None, description="Key of an alert that already says this one's fact (the cluster is down, "
                               "so the master is too): while the parent fires on the same component and instance, "
                               "Alertmanager mutes this one.")
    lint: LintConfig | None = None

    @field_validator("expr")
    @classmethod
    def _expr(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("an empty expression: write the PromQL condition the alert fires on")
        return value

    @model_validator(mode="before")
    @classmethod
    def _guide_alert_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and "alert" in data:
            raise ValueError(
                "the guide's `alert:` key holds the expression: rename it to `expr:` "
                "(the alert's name is its key in `alerts:`)"
            )
        return data

    @model_validator(mode="after")
    def _one_source(self):
        if (self.expr is None) == (self.kpi is None):
            raise ValueError("give exactly one of `expr` (a PromQL condition) or `kpi` with `level`")
        if self.kpi is not None and self.level is None:
            raise ValueError("an alert on a `kpi` needs `level: warning` or `level: critical`")
        if self.kpi is None and self.level is not None:
            raise ValueError("`level` only goes with `kpi`")
        return self


class ImportedRule(Placed):
    """One rule of an imported group, written to rules.yml exactly as given: no project labels,
    no generated annotations, the name as it is."""

    record: str | None = None
    alert: str | None = None
    expr: str = Field(min_length=1)
    for_: Duration | None = Field(None, alias="for")
    keep_firing_for: Duration | None = None
    labels: dict[LabelName, str] = Field(default_factory=dict)
    annotations: dict[LabelName, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind(self):
        if (self.record is None) == (self.alert is None):
            raise ValueError("give exactly one of `record` (a recording rule) or `alert`")
        if self.record is not None and not METRIC_NAME.match(self.record):
            raise ValueError(f"{self.record!r} is not a valid metric name")
        if self.record is not None and (self.for_ or self.keep_firing_for or self.annotations):
            raise ValueError("a recording rule has no `for`, `keep_firing_for` or `annotations`")
        for label in self.labels:
            if not LABEL_NAME.match(label):
                raise ValueError(f"{label!r} is not a valid label name")
        return self

    @property
    def rule_name(self) -> str:
        name = self.record if self.record is not None else self.alert
        assert name is not None  # the validator above requires one of them
        return name


class RuleGroupSpec(Located):
    """A rules.yml group kept as it was (written by `monspec import`); its name is its key."""

    interval: Interval | None = None
    limit: int | None = Field(None, ge=0, le=1_000_000_000, description="Prometheus' per-group limit on alerts / series (0: none).")
    imported_from: str | None = Field(None, description="Where the group came from, for the reader.")
    rules: list[ImportedRule] = Field(min_length=1)


class SpecFile(Strict):
    """What one spec file may hold."""

    project: Project | None = None
    metrics: dict[str, Metric] = Field(default_factory=dict)
    recording_rules: list[RecordingRule] = Field(default_factory=list)
    kpis: dict[Name, Kpi] = Field(default_factory=dict)
    alerts: dict[Name, Alert] = Field(default_factory=dict)
    routing: Routing | None = None
    rule_groups: dict[Name, RuleGroupSpec] = Field(default_factory=dict)
    dashboards: dict[Name, Dashboard] = Field(default_factory=dict)
    slos: dict[Name, Slo] = Field(default_factory=dict)
