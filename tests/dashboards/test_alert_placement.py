"""Which dashboard shows which alert (monspec.model.placement), on the two-component example:
its state tiles, its firing-alerts annotation and the runbook's "Dashboards:" line all read it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from monspec.model import build_model
from monspec.render import dashboards as render_dashboards
from monspec.render import slo_dashboard
from monspec.spec import load_specs

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "http-api" / "specs"

OVERVIEW = ["TooManyInFlight", "AvailabilityCollapsed", "AvailabilityCritical", "AvailabilityWarning",
            "LatencyP99Critical", "LatencyP99Warning", "OrdersApiTargetDown", "OrdersApiTargetMissing"]
# ReconcileStale reads a consumer metric no panel shows: it sits on the consumer's first dashboard.
CONSUMER = ["ConsumerStalled", "ConsumerLagGrowing", "ReconcileStale", "ConsumerErrorsCritical", "ConsumerErrorsWarning",
            "ConsumerLagCritical", "ConsumerLagWarning", "OrdersConsumerTargetDown", "OrdersConsumerTargetMissing"]
SLOS = [f"{slo}BurnRate{w}" for slo in ("ApiAvailability", "ApiLatency") for w in ("1h", "6h", "1d", "3d")]


def _tiles(specs_dir: Path) -> dict[str, list[str]]:
    model = build_model(load_specs(specs_dir))
    return {key: [a.name for a in alerts] for key, alerts in model.placement.tiles.items()}


def test_each_alert_is_on_the_dashboards_that_show_it_and_its_components_absence_alerts_on_each() -> None:
    model = build_model(load_specs(EXAMPLE))
    assert _tiles(EXAMPLE) == {"overview": OVERVIEW, "consumer": CONSUMER, "slos": SLOS}
    assert sorted(OVERVIEW + CONSUMER + SLOS) == sorted(a.name for a in model.all_alert_rules)
    rendered = {**render_dashboards.render(model), **slo_dashboard.render(model)}
    for path, tiles in (("orders-overview", OVERVIEW), ("orders-consumer", CONSUMER), ("orders-slos", SLOS)):
        board = json.loads(rendered[f"grafana/dashboards/{path}.json"])
        [state] = [p for p in board["panels"] if p["title"] == "Alert states"]
        assert [t["legendFormat"] for t in state["targets"]] == tiles
        [annotation] = [a for a in board["annotations"]["list"] if a["name"] == "Firing alerts"]
        assert annotation["expr"] == 'ALERTS{alertstate="firing", alertname=~"' + "|".join(tiles) + '"}'


def test_a_second_dashboard_of_a_component_gets_its_shown_and_absence_alerts_only(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(EXAMPLE, specs)
    board = specs / "dashboards" / "overview.yaml"
    board.write_text(board.read_text() + "\n".join([
        "  latency:",
        "    title: Orders - Latency",
        "    component: api",
        "    panels:",
        "      - title: p99",
        "        visualization: timeseries",
        "        targets:",
        "          - kpi: latency_p99",
        ""]))
    tiles = _tiles(specs)
    assert tiles["latency"] == ["LatencyP99Critical", "LatencyP99Warning", "OrdersApiTargetDown", "OrdersApiTargetMissing"]
    assert tiles["overview"] == OVERVIEW and tiles["consumer"] == CONSUMER


def test_the_runbook_names_the_slo_dashboard_for_burn_rate_alerts() -> None:
    model = build_model(load_specs(EXAMPLE))
    placed = {a.name: [(model.dashboards[k].title, p) for k, p in shown]
              for a, shown in zip(model.placement.alerts, model.placement.panels, strict=True)}
    assert placed["ApiLatencyBurnRate1h"] == [("Orders - SLOs", ["API latency: burn rate per window"])]
    assert placed["LatencyP99Warning"] == [("Orders - Overview", ["p99 latency"])]
    assert placed["ReconcileStale"] == []


def test_a_component_without_dashboards_has_its_alerts_on_the_first_dashboard(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(EXAMPLE, specs)
    board = specs / "dashboards" / "overview.yaml"
    text = board.read_text()
    board.write_text(text[:text.index("  consumer:\n")])
    model = build_model(load_specs(specs))
    tiles = {key: [a.name for a in alerts] for key, alerts in model.placement.tiles.items()}
    assert tiles["overview"] == [a.name for a in model.all_alert_rules if a.name not in SLOS]
    assert tiles["slos"] == SLOS


def test_the_metric_index_offers_every_selector_that_can_show_a_series() -> None:
    """`_Targets.candidates` (split by the label most selectors pin) against the plain scan, on seeded
    random selectors: pinned, regex, negated and absent matchers on two labels."""
    import random

    from monspec import promql
    from monspec.model.placement import _shows, _Targets

    rng = random.Random(15)
    values = ["a", "b", "c"]

    def matchers() -> list[promql.Matcher]:
        out = []
        for label in ("slo", "le"):
            op = rng.choice(["=", "=", "!=", "=~", "!~", None])
            if op is not None:
                out.append(promql.Matcher(label, op, rng.choice(values) if "~" not in op else rng.choice(["a|b", "c", ".*"])))
        return out

    for _ in range(200):
        targets = [(i, f"d{i % 3}", f"p{i}", promql.Selector("m", matchers(), 0)) for i in range(rng.randrange(0, 12))]
        index = _Targets(targets)
        wanted = {m.name: m.value for m in matchers() if m.op == "="}
        shown = [t for t in targets if _shows(t[3], wanted)]
        assert sorted(t for t in index.candidates(wanted) if _shows(t[3], wanted)) == shown
