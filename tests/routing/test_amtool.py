"""The real amtool on generated alertmanager.yml: it loads, and routes every alert where the spec says."""
from __future__ import annotations

from pathlib import Path

import yaml

from monspec.build import compile_specs
from monspec.output import write_tree
from monspec.toolcheck import programs
from monspec.toolcheck.unit_tests import amtool_tests
from support.processes import require_program as need

FIXTURE = Path(__file__).parent.parent / "fixtures" / "golden_specs"

SPECS = Path(__file__).parent.parent.parent / "specs"


def _generate(specs: Path, out: Path) -> Path:
    write_tree(out, compile_specs(specs).files)
    return out


def test_bundled_config_passes_amtool_and_every_alert_reaches_its_receiver(tmp_path: Path) -> None:
    need("amtool")
    out = _generate(SPECS, tmp_path / "generated")
    results = amtool_tests(SPECS, out)
    assert [r for r in results if not r.ok] == []
    names = [r.name for r in results]
    assert names[0] == f"amtool check-config {out}/alertmanager/alertmanager.yml"
    alerts = [rule["alert"] for g in yaml.safe_load((out / "prometheus/rules.yml").read_text())["groups"]
              for rule in g["rules"] if "alert" in rule]
    assert len(names) == 1 + len(alerts)
    assert "amtool config routes test RedisMasterDown (severity=critical) -> cache-oncall" in names
    # As the guide's PagerDuty example: the hit-rate warning reaches PagerDuty too, then the chat.
    assert "amtool config routes test CacheHitRateWarning (severity=warning) -> cache-oncall,cache-chat" in names
    assert "amtool config routes test CachePerformanceExcellent (severity=info) -> cache-digest" in names


def test_fixture_continue_route_gives_two_receivers(tmp_path: Path) -> None:
    need("amtool")
    out = _generate(FIXTURE, tmp_path / "generated")
    results = {r.name: r for r in amtool_tests(FIXTURE, out)}
    assert all(r.ok for r in results.values()), [r.detail for r in results.values() if not r.ok]
    assert "amtool config routes test ErrorRatioCritical (severity=critical) -> shop-pager,shop-audit" in results
    assert "amtool config routes test ErrorRatioWarning (severity=warning) -> shop-audit" in results


def test_amtool_disagreeing_with_the_spec_fails(tmp_path: Path) -> None:
    need("amtool")
    out = _generate(FIXTURE, tmp_path / "generated")
    config = out / "alertmanager" / "alertmanager.yml"
    # Hand-edit the generated file so the critical route no longer continues.
    config.write_text(config.read_text().replace("          continue: true\n", ""))
    results = {r.name: r for r in amtool_tests(FIXTURE, out)}
    bad = results["amtool config routes test ErrorRatioCritical (severity=critical) -> shop-pager,shop-audit"]
    assert not bad.ok
    assert bad.detail.splitlines()[0] == "expected receivers shop-pager,shop-audit, amtool routed to shop-pager"


def test_amtool_check_config_rejects_a_broken_file(tmp_path: Path) -> None:
    need("amtool")
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: nobody\nreceivers: []\n")
    result = programs.amtool_check_config(config)
    assert not result.ok
    assert 'undefined receiver "nobody" used in route' in result.output


def test_label_values_with_quotes_reach_amtool_intact(tmp_path: Path) -> None:
    need("amtool")
    from monspec.render.alertmanager import matcher_strings
    config = tmp_path / "alertmanager.yml"
    matchers = matcher_strings({"team": 'x, "y" \\ z'}, {})
    config.write_text(yaml.safe_dump({"route": {"receiver": "a", "routes": [{"receiver": "b", "matchers": matchers}]},
                                      "receivers": [{"name": "a"}, {"name": "b"}]}))
    assert programs.amtool_check_config(config).ok
    assert programs.amtool_routes_test(config, {"team": 'x, "y" \\ z'}, ["b"]).ok
    assert not programs.amtool_routes_test(config, {"team": "x"}, ["b"]).ok
