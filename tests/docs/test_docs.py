"""generated/docs/alerts.md: one section per alert whose anchor every runbook_url points at,
the KPI table, dashboards and receivers, and lint disables with reasons."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from monspec.model import build_model
from monspec.model.rules import anchor
from monspec.render.docs import PATH, render
from monspec.render.rules import render_rules_text
from monspec.spec import load_specs

TESTS = Path(__file__).parent.parent
FIXTURE = TESTS / "fixtures" / "golden_specs"
SPECS = TESTS.parent / "specs"


def github_slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _section(doc: str, name: str) -> str:
    start = doc.index(f"\n### {name}\n")
    end = doc.find("\n### ", start + 1)
    section = doc[start + 1 : end if end > 0 else None]
    return section.split("\n## ")[0]


def test_every_runbook_url_points_at_an_alert_heading() -> None:
    for folder in (SPECS, FIXTURE):
        specs = load_specs(folder)
        doc = render(build_model(specs))[PATH]
        slugs = {github_slug(line[4:]) for line in doc.splitlines() if line.startswith("### ")}
        groups = yaml.safe_load(render_rules_text(build_model(specs)))["groups"]
        alerts = [rule for group in groups for rule in group["rules"] if "alert" in rule]
        assert alerts
        for rule in alerts:
            url = rule["annotations"]["runbook_url"]
            base, fragment = url.split("#")
            assert base == specs.project.runbook_base_url
            assert fragment == anchor(rule["alert"]) and fragment in slugs, rule["alert"]
            assert f"| [{rule['alert']}](#{fragment}) |" in doc


def test_fixture_alert_section_is_complete() -> None:
    doc = render(build_model(load_specs(FIXTURE)))[PATH]
    assert _section(doc, "ErrorRatioCritical") == """\
### ErrorRatioCritical

**Severity:** critical · **For:** 2m · **KPI:** Error ratio critical >0.05

**Summary:** `Error ratio at {{ $value | humanizePercentage }}: customers can't pay`

```promql
shop_error_ratio > 0.05
```

**What it means:**

More than 5% of requests fail.
Quotes "double" and 'single', colons: here, a {% raw %} tag, {{ $value | humanizePercentage }} inline,
non-ASCII — café, 日本語 — and a trailing newline.

**Impact:** Lost orders.

**Troubleshooting:**

1. Check the deploy log: was something released?
2. Roll back

**Dashboards:** Shop API - Overview → Error ratio, Traffic and errors

**Receiver:** `shop-pager` (pagerduty), `shop-audit` (webhook)

**Labels:** `kpi=error_ratio`, `page=true`, `severity=critical`, `team=checkout`
"""


def test_kpi_table_has_thresholds_and_links_alerts() -> None:
    doc = render(build_model(load_specs(FIXTURE)))[PATH]
    assert ("| Error ratio | `shop_error_ratio` | <0.01 | — | >0.02 | >0.05 | 5m | "
            "[ErrorRatioCritical](#errorratiocritical), [ErrorRatioWarning](#errorratiowarning) |") in doc
    assert "| Queue utilization | `shop_queue_utilization` | 0.2-0.8 | — | >0.9 | — | 15m | " \
           "[QueueUtilizationWarning](#queueutilizationwarning) |" in doc


def test_bundled_sections_name_dashboards_receiver_and_inhibition() -> None:
    specs = load_specs(SPECS)
    section = _section(render(build_model(specs))[PATH], "RedisMasterDown")
    assert "**Receiver:** `cache-oncall` (pagerduty, webhook)" in section
    assert "**Muted while:** RedisClusterDown is firing on the same job, instance: it already covers this alert." in section
    if getattr(specs, "dashboards", {}):
        assert "→ System Health" in section  # the executive dashboard's panel on unified_redis_master_connected
    warning = _section(render(build_model(specs))[PATH], "CacheHitRateWarning")
    assert "**Muted while:** A firing critical KPI alert mutes the warning on the same KPI and instance." in warning
    # The guide's PagerDuty example sends the hit-rate warning to PagerDuty too.
    assert "**Receiver:** `cache-oncall` (pagerduty, webhook), `cache-chat` (slack)" in warning


def test_dashboards_are_the_panels_showing_the_alerts_own_series() -> None:
    """The L2 hit-rate alert links to the panel with the L2 ratio, not to the overall or L1 ones;
    an alert no panel shows says so rather than pointing at a neighbour's panel."""
    doc = render(build_model(load_specs(SPECS)))[PATH]
    assert "**Dashboards:** UnifiedConnectionManager - Executive Overview → Cache Hit Rate Trend (24h)" \
        in _section(doc, "L2HitRateCritical").splitlines()
    assert "**Dashboards:** UnifiedConnectionManager - Cache Performance → Cache Hit Rate; UnifiedConnectionManager - " \
        "Executive Overview → Overall Cache Performance, Cache Hit Rate Trend (24h)" in _section(doc, "CacheHitRateCritical")
    # ... and where its state tile is instead: the first dashboard (monspec.model.placement)
    assert "**Dashboards:** none shows its metrics; its state tile is on UnifiedConnectionManager - Cache Performance" \
        in _section(doc, "L2ResponseTimeWarning").splitlines()


def test_lint_disables_are_listed_with_reasons(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "specs")
    alerts = tmp_path / "specs" / "alerts.yaml"
    alerts.write_text(alerts.read_text().replace(
        "    annotations:\n", "    lint:\n      disable: [promql/unknown-metric]\n      reason: 'queue | exporter pending'\n"
        "    annotations:\n"))
    doc = render(build_model(load_specs(tmp_path / "specs")))[PATH]
    assert "**Lint checks off:** `promql/unknown-metric` — queue | exporter pending" in _section(doc, "QueueStuck")
    assert doc.endswith("## Lint checks turned off\n\n| Where | Checks | Reason |\n| --- | --- | --- |\n"
                        "| recording rule `shop_error_ratio` | `rule/record-name` | The team's dashboards and tests read this name. |\n"
                        "| alert `queue_stuck` | `promql/unknown-metric` | queue \\| exporter pending |\n")


def test_without_routing_or_dashboards_the_sections_say_so() -> None:
    specs = load_specs(FIXTURE)
    specs.routing = None
    specs.dashboards = {}
    section = _section(render(build_model(specs))[PATH], "QueueStuck")
    assert "**Receiver:** none (no `routing:` in the specs)" in section
    assert "**Dashboards:** none shows its metrics" in section.splitlines()


def test_html_from_a_spec_is_printed_not_run(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    alerts = specs / "alerts.yaml"
    alerts.write_text(alerts.read_text()
                      .replace("impact: Lost orders.", 'impact: "<script>alert(1)</script> Lost <b>orders</b> (< 5%)"')
                      .replace("- Roll back", '- "<img src=x onerror=alert(1)> Roll back"'))
    doc = render(build_model(load_specs(specs)))[PATH]
    assert "**Impact:** &lt;script>alert(1)&lt;/script> Lost &lt;b>orders&lt;/b> (< 5%)" in doc.splitlines()
    assert "2. &lt;img src=x onerror=alert(1)> Roll back" in doc.splitlines()
    assert "<script" not in doc and "<img" not in doc and "<b>" not in doc
