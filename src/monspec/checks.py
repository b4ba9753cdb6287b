"""Every lint check id in one place: id, severity, one-line summary (as pint's CheckNames).

Lint reports only these ids, `lint: {disable: [...]}` accepts only these ids, and docs/lint.md
has a section for each (a test holds all three together). A plain data module, so the spec
models can validate `disable:` without importing lint.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    id: str
    severity: str  # "error" | "warning"
    summary: str


CHECKS: tuple[Check, ...] = (
    Check("promql/syntax", "error", "the expression does not parse"),
    Check("promql/unknown-metric", "error", "a selector names a series neither in the catalog nor recorded"),
    Check("promql/unknown-label", "error", "a matcher on a label the series does not have"),
    Check("promql/label-value", "error", "a matcher value outside the catalog's allowed values"),
    Check("promql/histogram-as-value", "error", "a histogram's base name used as a value"),
    Check("promql/counter-without-rate", "error", "a counter read as a level, without rate() or increase()"),
    Check("promql/rate-on-gauge", "error", "rate(), irate() or increase() of a gauge or a recorded series"),
    Check("promql/quantile-without-le", "error", "histogram_quantile() over buckets aggregated without `le`"),
    Check("promql/range-too-short", "warning", "a range window shorter than 4x the scrape interval"),
    Check("promql/mixed-instances", "warning", "an alerting aggregation that drops `instance`"),
    Check("promql/wrong-aggregation", "warning", "a gauge aggregated other than the catalog says"),
    Check("alert/annotation-unit", "error", "an annotation prints $value in a unit the expression does not yield"),
    Check("alert/missing-annotation", "error", "an empty summary, description or runbook_url"),
    Check("alert/severity", "error", "`labels.severity` disagrees with `severity:`"),
    Check("alert/missing-for", "warning", "a threshold alert without `for`"),
    Check("alert/name-case", "error", "an alert name that is not CamelCase"),
    Check("alert/warning-stricter", "error", "a warning threshold stricter than the critical one"),
    Check("alert/unknown-kpi", "error", "an alert's `kpi:` names no KPI"),
    Check("alert/missing-threshold", "error", "the alert's KPI has no threshold at its `level:`"),
    Check("alert/duplicate-name", "error", "two alerts get the same name"),
    Check("kpi/threshold-order", "error", "target, warning and critical out of order"),
    Check("dashboard/no-targets", "error", "a panel without a query"),
    Check("dashboard/duplicate-title", "error", "two panels or dashboards with the same title"),
    Check("dashboard/duplicate-uid", "error", "two dashboards with the same Grafana uid"),
    Check("dashboard/unknown-unit", "error", "a unit neither Grafana nor the catalog knows"),
    Check("dashboard/threshold-order", "error", "colour steps not strictly ascending or descending"),
    Check("dashboard/restated-threshold", "error", "own colour steps on a target naming a KPI"),
    Check("dashboard/unknown-kpi", "error", "a target or threshold line naming a KPI or level that does not exist"),
    Check("dashboard/line-panel", "error", "threshold lines on a panel that draws no lines"),
    Check("dashboard/fixed-target-label", "error", "a selector fixing `job` or `instance`"),
    Check("dashboard/panel-description", "warning", "a panel with no description and no KPI to take one from"),
    Check("dashboard/rate-interval", "warning", "rate(), irate() or increase() over a window other than $__rate_interval"),
    Check("dashboard/editable", "warning", "provisioned dashboards editable in the UI (`allow_ui_updates: true`)"),
    Check("dashboard/job-variable", "error", "the rendered `job` variable is not multi-select with All as `.+`"),
    Check("dashboard/instance-variable", "error", "the rendered `instance` variable is not multi-select with All as `.+`"),
    Check("dashboard/datasource-variable", "error", "a rendered panel, query or variable not on `$datasource`"),
    Check("routing/literal-secret", "error", "a secret written into a spec instead of a file"),
    Check("routing/unknown-receiver", "error", "a route names an undefined receiver"),
    Check("routing/unused-receiver", "warning", "a receiver no route reaches"),
    Check("routing/unknown-alert", "error", "an `alertname` matcher naming no alert of the specs"),
    Check("routing/unreachable-route", "warning", "a route no alert of the specs matches"),
    Check("rule-group/duplicate-name", "error", "an imported group named like a generated one"),
    Check("rule/record-name", "warning", "a recording rule named without `level:metric:operations` colons"),
    Check("catalog/unverified", "warning", "an imported metric not yet confirmed in the catalog"),
    Check("catalog/missing-component", "error", "a metric of a project with several components names none"),
    Check("spec/unknown-component", "error", "`component:` names no component of the project"),
    Check("alert/unknown-parent", "error", "an alert's `parent:` names no alert"),
    Check("promql/unsupported-by-target", "error", "PromQL the project's target Prometheus version cannot load"),
    Check("test/uncovered", "warning", "a rule no generated promtool test covers"),
    Check("catalog/unknown-unit", "warning", "a unit outside the known list (it still renders)"),
)

BY_ID: dict[str, Check] = {check.id: check for check in CHECKS}
