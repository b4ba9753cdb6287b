"""The fault table (monspec.demo.faults), proven live: quiet when healthy, and for each fault
exactly its alerts, its inhibitions, one notification per receiver and alert, the `verify`
verdict, then recovery with resolved notifications. Faults run one after another on one stack."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from e2e.conftest import REPO
from e2e.stack import scaled
from monspec.demo.faults import BURST_ERRORS, FAULTS, Fault, recover
from monspec.demo.processes import wait_until
from monspec.model.objective import objectives
from monspec.model.rules import alert_rules
from monspec.spec import load_specs
from monspec.spec.durations import parse_duration

pytestmark = pytest.mark.live

HEALTHY_SECONDS = 30  # three 5m evaluation windows, compressed
SETTLE_SECONDS = 3  # after the last expected alert fires: nothing more may join
POLL = 0.25
# Latency KPIs measure the machine the suite runs on: on a loaded host the p95 of the few L2
# lookups a warm L1 leaves crosses 25 ms now and then. Their alerts and verify rows are not judged.
SPECS = load_specs(REPO / "specs")
LATENCY_KPIS = {k.name for k in SPECS.kpis.values() if k.unit == "seconds"}
LOAD_SENSITIVE = {a.name for a in alert_rules(SPECS) if a.kpi is not None and a.kpi.name in LATENCY_KPIS}
# The L2 hit rate divides the few lookups a warm L1 misses. Compressed 30x, its 5m window holds
# 30x fewer of them than a real one, late in a run a handful: two misses in a row make it 0. An
# L2 hit-rate alert is judged only while its instance's window holds MIN_L2_LOOKUPS lookups.
L2_KPI = "l2_hit_rate"
L2_HIT_RATE = {a.name for a in alert_rules(SPECS) if a.kpi is not None and a.kpi.name == L2_KPI}
MIN_L2_LOOKUPS = 20
THIN: set[str] = set()  # L2 hit-rate alerts seen on a thin window in the running test: not judged
TRANSIENT: list[set[str]] = [set()]  # the running fault's `transient` alerts
# Burn-rate alerts by name, with their SLO: its alerts of one severity (the page pair) are one incident.
BURN_ALERTS = {a.rule.name: (o.name, a) for o in objectives(SPECS) for a in o.burn_alerts}
ARRIVAL_SECONDS = 90  # for a fault's alerts to fire and be notified, on top of what a burn-rate alert needs
HISTORY: list[str] = []  # every change of a loud alert's state, for failure messages
_LAST: dict[tuple[str, str], str] = {}


def arrival_seconds(fault: Fault) -> float:
    """How long the fault's alerts may take to fire and be notified. A burn-rate alert's long
    window (compressed; a young stack fills less of it) reaches the alert's threshold after
    window x threshold / error share of the burst at worst, then waits its `for`."""
    slo = [parse_duration(scaled(a.window.long)) * float(a.threshold) / BURST_ERRORS + parse_duration(scaled(a.window.for_))
           for _, a in (BURN_ALERTS[name] for name in fault.fires if name in BURN_ALERTS)]
    return ARRIVAL_SECONDS + max(slo, default=0)


def thin_l2_windows(live) -> set[str]:
    """Instances whose L2 hit-rate window holds fewer than MIN_L2_LOOKUPS lookups."""
    expr = (f'sum by (instance) (increase(unified_cache_operations_total{{cache_level="l2"}}[{scaled("5m")}])) '
            f'< {MIN_L2_LOOKUPS}')
    return {sample["metric"]["instance"] for sample in live.query(expr)}


def loud(live) -> dict[str, str]:
    """Alerts above info that are pending or firing: alertname -> state (firing wins)."""
    out: dict[str, str] = {}
    thin: set[str] | None = None
    for alert in live.alerts():
        if alert["labels"].get("severity") == "info":
            continue
        name = alert["labels"]["alertname"]
        if name in LOAD_SENSITIVE or name in TRANSIENT[0] and alert["state"] == "pending":
            continue
        if name in L2_HIT_RATE:
            thin = thin_l2_windows(live) if thin is None else thin
            if alert["labels"]["instance"] in thin:
                THIN.add(name)
                continue
        key = (name, alert["labels"].get("instance", ""))
        if _LAST.get(key) != alert["state"]:
            _LAST[key] = alert["state"]
            HISTORY.append(f"{time.strftime('%H:%M:%S')} {name} {key[1]} {alert['state']} {alert.get('value')}")
        out[name] = "firing" if "firing" in (alert["state"], out.get(name)) else alert["state"]
    return out


def wait_quiet(live, timeout: float = 120, stretch: float = 5) -> None:
    """Until no alert above info has been pending or firing for `stretch` seconds in a row."""
    since = [time.monotonic()]

    def quiet_long_enough() -> bool:
        if loud(live):
            since[0] = time.monotonic()
        return time.monotonic() - since[0] >= stretch

    wait_until(quiet_long_enough, timeout, POLL, f"{stretch:.0f}s without an alert above info pending or firing")


def parsed(entry: dict) -> tuple[str, bool, set[str], set[str]] | None:
    """(notification group, firing or resolved, alerts firing, alerts resolved) of a notification
    (None: the e-mail digest). A group stays firing while any of its alerts fires."""
    kind, body = entry["kind"], entry["body"]
    if kind == "pagerduty":
        details = body["payload"]["custom_details"]
        return (body["dedup_key"], body["event_action"] == "trigger",
                set(re.findall(r"alertname = (\w+)", details.get("firing", ""))),
                set(re.findall(r"alertname = (\w+)", details.get("resolved", ""))))
    if kind == "webhook":
        names = {status: {a["labels"]["alertname"] for a in body["alerts"] if a["status"] == status}
                 for status in ("firing", "resolved")}
        return body["groupKey"], body["status"] == "firing", names["firing"], names["resolved"]
    if kind == "slack":  # one alert name per group ("[FIRING] Name on job"): the chat groups by alertname
        status, _, group = body["attachments"][0]["title"].partition(" ")
        name = {group.split()[0]}
        return (group, True, name, set()) if status == "[FIRING]" else (group, False, set(), name)
    return None


def firing_notifications(live, since: int) -> dict[tuple[str, str], dict[str, set[str]]]:
    """(receiver, integration) -> alertname -> notification groups, of firing notifications after `since`."""
    out: dict[tuple[str, str], dict[str, set[str]]] = {}
    for entry in live.notifications()[since:]:
        notification = parsed(entry)
        if notification is None or not notification[1]:
            continue
        for name in notification[2] - LOAD_SENSITIVE - THIN:
            out.setdefault((entry["receiver"], entry["kind"]), {}).setdefault(name, set()).add(notification[0])
    return out


def newly_told(live, since: int, mark: int) -> set[str]:
    """Alerts that notifications from `mark` on tell as firing for the first time in their group
    since `since`, or again after the group resolved: a new page or message, not an update of
    one still open (an SLO's 6h page outliving its 1h one in their shared incident)."""
    open_groups: dict[tuple[str, str, str], set[str]] = {}
    out: set[str] = set()
    for index, entry in enumerate(live.notifications()[since:], start=since):
        notification = parsed(entry)
        if notification is None:
            continue
        group, firing, names, _ = notification
        key = (entry["receiver"], entry["kind"], group)
        if not firing:
            open_groups.pop(key, None)
            continue
        if index >= mark:
            out |= names - open_groups.get(key, set())
        open_groups.setdefault(key, set()).update(names)
    return out - LOAD_SENSITIVE - THIN


def resolved(live, since: int, receiver: str, alertname: str) -> set[str]:
    """Integrations of `receiver` that were told `alertname` resolved after `since`."""
    kinds = set()
    for entry in live.notifications()[since:]:
        notification = parsed(entry)
        if entry["receiver"] == receiver and notification is not None and alertname in notification[3]:
            kinds.add(entry["kind"])
    return kinds


def integrations(receiver: str) -> set[str]:
    """The integrations the committed routing gives `receiver` (e-mail is the info digest only)."""
    import yaml

    config = yaml.safe_load((REPO / "generated" / "alertmanager" / "alertmanager.yml").read_text())
    [spec] = [r for r in config["receivers"] if r["name"] == receiver]
    return {k.removesuffix("_configs") for k in spec if k.endswith("_configs")} - {"email"}


EXIT_OF_STATUS = {"OK": 0, "NO DATA": 1, "WARNING": 1, "CRITICAL": 2}


def verify(live) -> dict:
    """`monspec verify --format json`, with `judged_exit`: the exit code without the latency KPIs' rows
    and the L2 hit rate's on a thin window."""
    result = subprocess.run([sys.executable, "-m", "monspec.cli", "verify", "--prometheus", live.stack.prometheus_url,
                             "--format", "json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.returncode
    thin = thin_l2_windows(live)
    statuses = [r["status"] for r in report["kpis"]
                if r["kpi"] not in LATENCY_KPIS and not (r["kpi"] == L2_KPI and r["instance"] in thin)]
    statuses += [t["status"] for t in report["targets"]] + ["WARNING"] * bool(report["absent_metrics"])
    statuses += [r["status"] for r in report["slos"]]
    report["judged_exit"] = max((EXIT_OF_STATUS[s] for s in statuses), default=0)
    return report


def verdict_holds(live, fault: Fault) -> bool:
    report = verify(live)
    if report["judged_exit"] != fault.verify.exit_code:
        return False
    for what, who, status in fault.verify.rows:
        instance = None if who == "*" else live.target(who)
        rows = [r for r in (report["targets"] if what == "target" else report["kpis"])
                if (what == "target" or r["kpi"] == what) and instance in (None, r["instance"])]
        # A dead target's KPI rows say NO DATA while its windows hold samples, then vanish: never OK.
        if {r["status"] for r in rows} != {status} and not (status == "NO DATA" and not rows):
            return False
    slos = {r["slo"]: r["status"] for r in report["slos"]}
    return all(slos.get(slo) == status for slo, status in fault.verify.slos)


def budgets_left(live, fault: Fault) -> dict[str, float]:
    """The error budget left of each SLO the fault's verdict names, as `verify` reads it."""
    if not fault.verify.slos:
        return {}
    left = {r["slo"]: r["budget_remaining"] for r in verify(live)["slos"]}
    return {slo: left[slo] for slo, _ in fault.verify.slos}


def test_quiet_when_healthy(live) -> None:
    """After warm-up, three evaluation windows without a single alert above info, pending or
    firing, and no notification but the info digest; `verify` says OK."""
    wait_quiet(live)
    THIN.clear()
    since = len(live.notifications())
    seen: dict[str, str] = {}
    deadline = time.monotonic() + HEALTHY_SECONDS
    while time.monotonic() < deadline:
        seen.update(loud(live))
        time.sleep(POLL)
    assert seen == {}
    assert firing_notifications(live, since) == {}
    report = verify(live)
    assert report["judged_exit"] == 0, report


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(live, fault: Fault) -> None:
    wait_quiet(live)
    THIN.clear()
    since = len(live.notifications())
    started = time.monotonic()
    expected = {(receiver, kind): {name: 1 for name in names}
                for receiver, names in fault.notified.items() for kind in integrations(receiver)}
    seen: dict[str, str] = {}

    def arrived() -> bool:
        seen.update({k: v for k, v in loud(live).items() if seen.get(k) != "firing"})
        firing = {k for k, v in loud(live).items() if v == "firing"}
        got = firing_notifications(live, since)
        return set(fault.fires) | set(fault.muted) <= firing and all(
            set(got.get(key, {})) >= set(names) for key, names in expected.items())

    TRANSIENT[0] = set(fault.transient)
    healthy_budgets = budgets_left(live, fault)
    try:
        fault.inject(live.stack)
        try:
            wait_until(arrived, arrival_seconds(fault), POLL, f"{fault.name}: {sorted(fault.fires)} firing and notified")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; seen {seen}; notified {firing_notifications(live, since)}:\n"
                                 + "\n".join(HISTORY[-40:])) from None
        settle = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < settle:
            arrived()
            time.sleep(POLL)
        took = time.monotonic() - started
        # Exactly these alerts (and the fault's muted consequences), nothing else above info even pending.
        consequences = {k: v for k, v in seen.items() if k in fault.consequences}
        assert {k: v for k, v in seen.items() if k not in consequences and k not in fault.slow} == \
            {name: "firing" for name in (*fault.fires, *fault.muted)}, \
            f"{fault.name} after {took:.0f}s:\n" + "\n".join(HISTORY[-40:])
        # The slow ones are not quiet: their conditions hold, their `for` outlasts the fault.
        assert {k: v for k, v in seen.items() if k in fault.slow} == {name: "pending" for name in fault.slow}, \
            f"{fault.name} after {took:.0f}s:\n" + "\n".join(HISTORY[-40:])
        # Alertmanager mutes the muted ones and every consequence that fired, nothing else.
        states = {}
        for alert in live.alertmanager_alerts():
            name = alert["labels"]["alertname"]
            if name not in LOAD_SENSITIVE | THIN and alert["labels"].get("severity") != "info":
                states.setdefault(name, set()).add(alert["status"]["state"])
        suppressed = {name for name, s in states.items() if s == {"suppressed"}}
        assert set(fault.muted) <= suppressed <= set(fault.muted) | set(fault.consequences), states
        assert {name for name in states if name in fault.consequences} <= suppressed, states
        # One notification per receiver and alert: no duplicate per instance, nothing muted.
        got = firing_notifications(live, since)
        assert {key: {name: len(groups) for name, groups in names.items()} for key, names in got.items()} == expected
        # Every PagerDuty event has a title, even when its alerts' summaries differ (a value per instance).
        assert all(e["body"]["payload"]["summary"] for e in live.notifications()[since:] if e["kind"] == "pagerduty")
        for key, names in got.items():
            incidents: dict[tuple[str, str], set[str]] = {}
            for name, groups in names.items():
                if name in BURN_ALERTS:
                    slo, alert = BURN_ALERTS[name]
                    incidents.setdefault((slo, alert.severity), set()).update(groups)
            assert all(len(groups) == 1 for groups in incidents.values()), (key, incidents)
        wait_until(lambda: verdict_holds(live, fault), 20, POLL, f"verify: {fault.verify.text()}")
        # The budget burning: below its value before the fault, and still falling.
        during = budgets_left(live, fault)
        assert all(during[slo] < healthy_budgets[slo] for slo in during), (healthy_budgets, during)
        wait_until(lambda: all(left < during[slo] for slo, left in budgets_left(live, fault).items()), 20, POLL,
                   f"the error budget left of {sorted(during)} to fall below {during}")
    finally:
        mark = len(live.notifications())
        recover(live.stack)
    # Recovery: every alert resolves, every receiver that was told is told it resolved, and no
    # alert notifies on the way back but the table's known noise (`after_recovery`).
    wait_until(lambda: not set(loud(live)) & (set(seen) - set(fault.slow)), 90, POLL,
               f"{fault.name}: its alerts to resolve")
    late = newly_told(live, since, mark)
    assert late <= {*fault.after_recovery, *fault.slow}, f"{fault.name}: notified while recovering: {sorted(late)}"
    for receiver, names in fault.notified.items():
        for name in names:
            wait_until(lambda r=receiver, n=name: resolved(live, mark, r, n) == integrations(r), 60, POLL,
                       f"{name} resolved at {receiver}")
