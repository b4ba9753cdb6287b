"""dashboard/*: panels that would render empty, ambiguous or wrong.

- dashboard/no-targets: a panel without a query
- dashboard/duplicate-title: two panels of one dashboard (or two dashboards) with the same title
- dashboard/duplicate-uid: two dashboards with the same Grafana uid
- dashboard/unknown-unit: a unit that is neither a Grafana unit id nor a catalog unit
- dashboard/threshold-order: colour steps that are not strictly ascending or descending
- dashboard/restated-threshold: own colour steps on a target naming a KPI (the KPI is the one source)
- dashboard/unknown-kpi: a target or threshold line naming a KPI (or a KPI level) that does not exist
- dashboard/line-panel: threshold lines on a panel that draws no lines
- dashboard/fixed-target-label: a selector fixing `job` or `instance`, which the variables select

dashboard-linter's rules (grafana/dashboard-linter), so a user's own dashboards get the same advice:

- dashboard/panel-description: a panel with neither a description nor a KPI to take one from
- dashboard/rate-interval: a rate()/irate()/increase() window other than `$__rate_interval`
- dashboard/editable: provisioned dashboards editable in the UI (`allow_ui_updates: true`)
- dashboard/job-variable, dashboard/instance-variable: the rendered variable is not a multi-select
  query variable labelled `Job` / `Instance` with `.+` for All
- dashboard/datasource-variable: a rendered panel, query or variable not on the `$datasource` variable

PromQL syntax and catalog references of every target with its own `expr` are checked by the
promql families through `Dashboard.expression_fields()`; a target naming a KPI is checked at
the KPI, so a broken KPI is reported once.
"""
from __future__ import annotations

import difflib

from monspec import promql
from monspec.errors import MonspecError
from monspec.lint.ranges import _range_offset
from monspec.render.dashboards import dashboard_uid, grafana_unit, known_units
from monspec.spec.dashboards import Dashboard, Panel, lintable

TARGET_LABELS = ("job", "instance")
RATE_FUNCTIONS = ("rate", "irate", "increase")
RATE_INTERVAL = ("$__rate_interval", "${__rate_interval}")
DATASOURCE_UIDS = ("${datasource}", "$datasource")


def check(ctx) -> None:
    specs = ctx.specs
    titles: dict[str, Dashboard] = {}
    uids: dict[str, Dashboard] = {}
    for key, dashboard in specs.dashboards.items():
        for seen, value, what, field in ((titles, dashboard.title, "dashboard title", "title"),
                                         (uids, dashboard_uid(specs.project.name, key, dashboard), "dashboard uid", "uid")):
            if value in seen:
                first = seen[value]
                ctx.report(dashboard, dashboard.problem(
                    "dashboard/duplicate-title" if field == "title" else "dashboard/duplicate-uid",
                    f"{what} {value!r} is also used by dashboard `{first.name}`", field,
                    related=(first.position(field),)))
            else:
                seen[value] = dashboard
        panel_titles: dict[str, Panel] = {}
        for panel in dashboard.panels:
            if panel.title in panel_titles:
                ctx.report(panel, panel.problem("dashboard/duplicate-title",
                                                f"panel title {panel.title!r} appears twice in dashboard `{dashboard.name}`",
                                                "title", related=(panel_titles[panel.title].position("title"),)))
            else:
                panel_titles[panel.title] = panel
            _check_panel(ctx, panel)
        _check_model(ctx, key, dashboard)
    grafana = specs.project.grafana
    if grafana.allow_ui_updates:
        ctx.report(grafana, grafana.problem(
            "dashboard/editable", "provisioned dashboards are editable in the UI (`allow_ui_updates: true`): "
            "edits there are lost when Grafana reloads the files", "allow_ui_updates", severity="warning",
            hint="change the specs instead; or keep it with `lint: {disable: [dashboard/editable], reason: …}`"))


def _check_model(ctx, key: str, dashboard) -> None:
    """The rules on what the renderer makes of the spec; only a spec without errors renders."""
    from monspec.render.dashboards import dashboard_json

    if any(p.severity == "error" for p in ctx.problems):
        return
    try:
        model = dashboard_json(ctx.model, key, dashboard)
    except (MonspecError, promql.PromQLSyntaxError):
        return  # the promql families report it
    for id, message in model_problems(model):
        ctx.report(dashboard, dashboard.problem(id, message, key=True))


def model_problems(model: dict) -> list[tuple[str, str]]:
    """dashboard-linter's template and datasource rules over a rendered dashboard: (id, message)."""
    found = []
    uid = model.get("uid")
    variables = {v.get("name"): v for v in model.get("templating", {}).get("list", [])}
    for name in ("job", "instance"):  # template-job-rule, template-instance-rule
        variable = variables.get(name) or {}
        wrong = [what for what, ok in (
            ("a query variable", variable.get("type") == "query"), (f"labelled {name.title()!r}", variable.get("label") == name.title()),
            ("multi-select", variable.get("multi") is True), ("with All as `.+`", variable.get("allValue") == ".+"),
        ) if not ok]
        if wrong:
            found.append((f"dashboard/{name}-variable",
                          f"dashboard {uid!r}: the `{name}` variable is not " + ", not ".join(wrong)))
    source = variables.get("datasource")  # template-datasource-rule
    if source is None or source.get("type") != "datasource" or source.get("query") != "prometheus" \
            or source.get("label") != "Data source":
        found.append(("dashboard/datasource-variable", f"dashboard {uid!r} has no `datasource` variable of the "
                      "prometheus type labelled 'Data source'"))
    uses = [(f"variable `{v['name']}`", v.get("datasource")) for v in variables.values() if v.get("type") == "query"]
    for panel in _model_panels(model):
        uses.append((f"panel {panel.get('title')!r}", panel.get("datasource")))
        uses += [(f"panel {panel.get('title')!r} query {t.get('refId')}", t.get("datasource"))
                 for t in panel.get("targets", [])]
    for what, ref in uses:
        if not isinstance(ref, dict) or ref.get("uid") not in DATASOURCE_UIDS:
            found.append(("dashboard/datasource-variable", f"dashboard {uid!r}: {what} does not "
                          "use the `$datasource` variable"))
    return found


def _model_panels(model: dict):
    for panel in model.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def _check_panel(ctx, panel) -> None:
    if not panel.description and all(t.kpi_of(ctx.specs.kpis) is None for t in panel.targets):
        ctx.report(panel, panel.problem("dashboard/panel-description", f"panel {panel.title!r} has no description",
                                        "title", severity="warning",
                                        hint="add `description:` saying what it shows and what a bad value means "
                                             "(a panel showing a KPI takes the KPI's)"))
    if not panel.targets:
        ctx.report(panel, panel.problem("dashboard/no-targets", f"panel {panel.title!r} has no targets",
                                        "targets" if "targets" in _data(panel) else "title",
                                        hint="add `targets:` with at least one `expr`"))
    if panel.unit is not None:
        _check_unit(ctx, panel, panel.unit, ("unit",))
    if panel.thresholds and panel.panel_type != "timeseries":
        ctx.report(panel, panel.problem("dashboard/line-panel",
                                        f"threshold lines need a timeseries panel, this one is a {panel.visualization}",
                                        "thresholds", hint="give the target `thresholds: [...]` colour steps instead"))
    for i, line in enumerate(panel.thresholds):
        if line.kpi is None:
            continue
        kpi = ctx.specs.kpis.get(line.kpi)
        if kpi is None:
            close = difflib.get_close_matches(line.kpi, sorted(ctx.specs.kpis), n=1, cutoff=0.6)
            ctx.report(panel, panel.problem("dashboard/unknown-kpi", f"unknown KPI `{line.kpi}`", "thresholds", i, "kpi",
                                            hint=f"did you mean `{close[0]}`?" if close else None))
        elif getattr(kpi, line.level) is None or not hasattr(getattr(kpi, line.level), "value"):
            ctx.report(panel, panel.problem("dashboard/unknown-kpi", f"KPI `{line.kpi}` has no one-sided `{line.level}` threshold",
                                            "thresholds", i, "level"))
    for i, target in enumerate(panel.targets):
        if target.unit is not None:
            _check_unit(ctx, panel, target.unit, ("targets", i, "unit"))
        if target.kpi is not None:
            _check_kpi(ctx, panel, target, i)
        elif target.thresholds is not None:
            _check_steps(ctx, panel, target, i)
        if target.expr is not None:  # a KPI's expression is the KPI's to check
            _check_selectors(ctx, panel, target, i)
            _check_rate_interval(ctx, panel, target, i)


def _data(panel) -> dict:
    data = panel.source.data
    for part in panel.path:
        data = data[part]
    return data


def _check_unit(ctx, panel, unit: str, path: tuple) -> None:
    if grafana_unit(unit) is not None:
        return
    close = difflib.get_close_matches(unit, known_units(), n=1, cutoff=0.6)
    hint = f"did you mean `{close[0]}`?" if close else f"known units: {', '.join(known_units())}"
    ctx.report(panel, panel.problem("dashboard/unknown-unit", f"unknown unit `{unit}`", *path, hint=hint))


def _check_kpi(ctx, panel, target, i: int) -> None:
    if target.kpi not in ctx.specs.kpis:
        close = difflib.get_close_matches(target.kpi, sorted(ctx.specs.kpis), n=1, cutoff=0.6)
        ctx.report(panel, panel.problem("dashboard/unknown-kpi", f"unknown KPI `{target.kpi}`", "targets", i, "kpi",
                                        hint=f"did you mean `{close[0]}`?" if close else None))
    if target.thresholds is not None:
        ctx.report(panel, panel.problem(
            "dashboard/restated-threshold",
            f"`thresholds` restate KPI `{target.kpi}`: a panel showing a KPI takes its colours from the KPI",
            "targets", i, "thresholds", key=True, hint="remove `thresholds`, or change the KPI in kpis.yaml"))


def _check_steps(ctx, panel, target, i: int) -> None:
    values = target.thresholds
    if not 1 <= len(values) <= 3:
        ctx.report(panel, panel.problem("dashboard/threshold-order",
                                        f"expected 1 to 3 colour steps, found {len(values)}", "targets", i, "thresholds"))
        return
    rising = all(a < b for a, b in zip(values, values[1:], strict=False))
    falling = all(a > b for a, b in zip(values, values[1:], strict=False))
    if not (rising or falling):
        ctx.report(panel, panel.problem(
            "dashboard/threshold-order", f"colour steps {values} are neither strictly ascending nor strictly descending",
            "targets", i, "thresholds",
            hint="worst first: ascending when higher is better, descending when lower is better"))


def _check_selectors(ctx, panel, target, i: int) -> None:
    try:
        analysis = promql.parse(lintable(target.expr))
    except promql.PromQLSyntaxError:
        return  # promql/syntax reports it
    path = panel.path + ("targets", i, "expr")
    for selector in analysis.selectors:
        for matcher in selector.matchers:
            if matcher.name in TARGET_LABELS:
                brace = target.expr.find("{", selector.offset)
                offset = target.expr.find(matcher.name, brace) if brace >= 0 else -1
                ctx.report(panel, panel.source.problem(
                    "dashboard/fixed-target-label",
                    f"`{matcher.name}` is fixed to \"{matcher.value}\": dashboards select it with the ${matcher.name} variable",
                    path, offset=max(offset, selector.offset),
                    hint=f"remove the `{matcher.name}` matcher; every query is filtered on $job and $instance"))


def _check_rate_interval(ctx, panel, target, i: int) -> None:
    try:
        analysis = promql.parse(lintable(target.expr))
    except promql.PromQLSyntaxError:
        return
    for selector in analysis.selectors:
        if selector.range_seconds is None or not selector.enclosing or selector.enclosing[0] not in RATE_FUNCTIONS:
            continue
        bracket = _range_offset(target.expr, selector.offset)
        window = target.expr[bracket + 1:target.expr.find("]", bracket)]
        if window.strip() in RATE_INTERVAL:
            continue
        ctx.report(panel, panel.source.problem(
            "dashboard/rate-interval", f"{selector.enclosing[0]}() over [{window}] in panel {panel.title!r}: "
            "a fixed window shows nothing when zoomed in and hides spikes when zoomed out",
            panel.path + ("targets", i, "expr"), offset=bracket, severity="warning",
            hint="use [$__rate_interval], which Grafana sizes to the step and the scrape interval"))
