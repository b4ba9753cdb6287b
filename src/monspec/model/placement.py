"""Which dashboard shows which alert: one relation, built once per model, read by the dashboards'
alert-state tiles and firing-alerts annotation and by the runbook's "Dashboards:" line.

An alert is shown by the panels whose targets select its own series (those of its condition and
of its KPI, `up` aside). A dashboard's state tiles are the alerts its panels show, the absence
alerts of its component's scrape job (with no target up every panel of it is empty), and, on the
component's first dashboard, the alerts no dashboard shows, so that every alert has a tile
somewhere. Each alert sits on a bounded number of dashboards: the tiles grow with the spec set,
not with dashboards times alerts (every dashboard carrying every alert made 705 MB of dashboards
of 100 services' specs).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from monspec import promql
from monspec.model.rules import AlertRule
from monspec.spec import SpecSet
from monspec.spec.dashboards import Dashboard, lintable

Target = tuple[int, str, str, promql.Selector]  # (target position, dashboard key, panel title, selector)


class _Targets:
    """The target selectors querying one metric, split by the value one label is pinned to
    (the one most of them pin with `=`): a wanted series pinning that label meets only the
    selectors pinning the same value or not pinning it (100 SLOs' panels all query
    `slo:sli_error:ratio_rate1h`, each with its own `slo=`)."""

    def __init__(self, targets: list[Target]) -> None:
        pins = Counter(m.name for *_, selector in targets for m in selector.matchers if m.op == "=")
        self.label = pins.most_common(1)[0][0] if pins else None
        self.all = targets
        self.by_value: dict[str, list[Target]] = {}
        self.unpinned: list[Target] = []
        for target in targets:
            value = next((m.value for m in target[3].matchers if m.name == self.label and m.op == "="), None)
            if value is None:
                self.unpinned.append(target)
            else:
                self.by_value.setdefault(value, []).append(target)

    def candidates(self, pinned: dict[str, str]) -> list[Target]:
        """The selectors that can show a series with these `=` matchers (a superset: `_shows` decides)."""
        if self.label not in pinned:
            return self.all
        return self.by_value.get(pinned[self.label], []) + self.unpinned


@dataclass(frozen=True)
class Placement:
    alerts: list[AlertRule]  # every alert of rules.yml, in its order
    panels: list[list[tuple[str, list[str]]]]  # per alert: (dashboard key, titles of the panels showing it)
    tiles: dict[str, list[AlertRule]]  # per dashboard key: the alerts on its state tiles, in rules.yml order
    tiled_on: list[list[str]]  # per alert: the keys of the dashboards with its state tile


def place(specs: SpecSet, dashboards: dict[str, Dashboard], alerts: list[AlertRule]) -> Placement:
    """The relation for `dashboards` (the spec set's, then the generated SLO dashboard)."""
    index = panels_by_metric(specs, dashboards)
    panels = [_showing(index, alert) for alert in alerts]
    own = [key for key in dashboards if key in specs.dashboards]
    boards_of: dict[str | None, list[str]] = {}  # component -> its dashboards, in spec order
    for key in own:
        boards_of.setdefault(dashboards[key].component or specs.project.default_component, []).append(key)
    tiles: dict[str, list[int]] = {key: [] for key in dashboards}
    for i, (alert, shown) in enumerate(zip(alerts, panels, strict=True)):
        for key, _ in shown:
            tiles[key].append(i)
        if not own:
            continue
        home = boards_of.get(alert.labels.get("component", specs.project.default_component))
        if alert.origin == "absence" and home:
            showing = {k for k, _ in shown}
            for key in home:
                if key not in showing:
                    tiles[key].append(i)
        elif not shown:  # its component's first dashboard; the first of all when its component has none
            tiles[(home or own)[0]].append(i)
    tiled_on: list[list[str]] = [[] for _ in alerts]
    for key, found in tiles.items():
        for i in found:
            tiled_on[i].append(key)
    return Placement(alerts, panels, {key: [alerts[i] for i in sorted(found)] for key, found in tiles.items()}, tiled_on)


def alert_series(alert: AlertRule) -> list[promql.Selector]:
    """The selectors of the alert's condition and of its KPI (`up` aside): the series it is about."""
    out: list[promql.Selector] = []
    for expr in (alert.expr, alert.kpi.expr if alert.kpi is not None else ""):
        if not expr:
            continue
        try:
            out += [s for s in promql.parse(expr).selectors if s.name and s.name != "up"]
        except promql.PromQLSyntaxError:
            continue
    return out


def _shows(panel: promql.Selector, pinned: dict[str, str]) -> bool:
    """A panel selector (of the wanted metric) shows the wanted series: no label that both pin
    to different values (`pinned`: the wanted selector's equality matchers)."""
    return all(m.matches(pinned[m.name]) for m in panel.matchers if m.name in pinned)


def panels_by_metric(specs: SpecSet, dashboards: dict[str, Dashboard]) -> dict[str, _Targets]:
    """Every target selector by metric name, built once: finding an alert's panels then costs its
    metrics, not every target of every dashboard."""
    index: dict[str, list[Target]] = {}
    position = 0
    for key, dashboard in dashboards.items():
        for panel in dashboard.panels:
            for target in panel.targets:
                position += 1
                query = target.query(specs.kpis)
                try:
                    selectors = [s for s in promql.parse(lintable(query)).selectors if s.name] if query else []
                except promql.PromQLSyntaxError:
                    continue
                for selector in selectors:
                    index.setdefault(selector.name or "", []).append((position, key, panel.title, selector))
    return {name: _Targets(targets) for name, targets in index.items()}


def _showing(index: dict[str, _Targets], alert: AlertRule) -> list[tuple[str, list[str]]]:
    """(dashboard key, panel titles) of the panels whose targets show the alert's own series, in
    dashboard and target order (the L2 hit-rate alert is shown by panels with the L2 ratio, not
    by the overall one)."""
    hits: set[tuple[int, str, str]] = set()
    for wanted in alert_series(alert):
        pinned = {m.name: m.value for m in wanted.matchers if m.op == "="}
        targets = index.get(wanted.name or "")
        if targets is not None:
            hits.update((position, key, panel) for position, key, panel, selector in targets.candidates(pinned)
                        if _shows(selector, pinned))
    found: dict[str, list[str]] = {}
    for _position, key, panel in sorted(hits):
        titles = found.setdefault(key, [])
        if panel not in titles:
            titles.append(panel)
    return list(found.items())
