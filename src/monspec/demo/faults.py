"""The fault table: what breaks, how to break it, and exactly what the monitoring must say.

One row per fault. `inject` breaks the demo stack, `recover` repairs any fault. The rest of
the row is the promise the live end-to-end suite proves and docs/faults.md publishes:
the alerts that fire, the ones that fire but Alertmanager mutes (inhibition), which
receivers get a notification (exactly one each) and what `monspec verify` answers. Every
alert above info that the row does not name must stay quiet.
"""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from monspec.demo.stack import CACHES, Stack

SHRUNK_L1 = 150  # slots: far below the demo's working set of 800 keys


STATUS_OF_EXIT = {0: "OK", 1: "WARNING", 2: "CRITICAL"}


@dataclass(frozen=True)
class Verdict:
    """What `monspec verify` answers: its exit code and rows it must show.

    A row is (KPI name or "target", instance: a cache program's name or "*" for every one, status).
    """

    exit_code: int
    rows: tuple[tuple[str, str, str], ...] = ()

    def text(self) -> str:
        shown = "; ".join(f"{what} {status} on {'every instance' if who == '*' else who}" for what, who, status in self.rows)
        return f"{STATUS_OF_EXIT[self.exit_code]} (exit {self.exit_code})" + (f": {shown}" if shown else "")


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    inject: Callable[[Stack], None]
    fires: tuple[str, ...]
    muted: tuple[str, ...] = ()
    notified: dict[str, tuple[str, ...]] = field(default_factory=dict)  # receiver -> alerts in its one notification
    verify: Verdict = Verdict(0)
    transient: tuple[str, ...] = ()  # may go pending (never fire) from how the fault is injected: TRANSIENT_WHY
    consequences: tuple[str, ...] = ()  # may fire as the fault plays out, always muted, never notified
    # Known noise, to fix: alerts whose windows outlive the fault and its inhibiting alert, so they
    # may notify after recovery. The live suite fails on any other late notification.
    after_recovery: tuple[str, ...] = ()
    needs: str = ""  # what is still missing before this row can be proven live


def kill(*names: str) -> Callable[[Stack], None]:
    """SIGKILL to each program, in this order, before waiting for any: one moment of failure."""
    def action(stack: Stack) -> None:
        stack.crash(*names)
    return action


def switch(stack: Stack, cache: str, query: str) -> dict:
    """`ucm demo`'s runtime fault switch (POST /fault, what `ucm fault --port` sends)."""
    request = urllib.request.Request(f"http://{stack.target(cache)}/fault?{query}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


def shrink_l1(stack: Stack) -> None:
    """cache-b's L1 shrinks far below its working set while it runs (`ucm fault l1_size=N`)."""
    switch(stack, "cache-b", f"l1_size={SHRUNK_L1}")


def recover(stack: Stack) -> None:
    """Every program running its usual command line, every fault switch clear, the replica in sync."""
    for name, program in stack.programs.items():
        if not program.running or program.argv != program.usual_argv:
            stack.restart(name)
    for cache in CACHES:
        switch(stack, cache, "clear")
    stack.wait_replica_synced()


# Without the master the cache gives up hit rate for consistency (L1 entries live one second
# without the invalidation channel, an unsynced replica is not read): how far each ratio falls
# depends on timing, so these may fire or not; inhibition must mute whichever does.
HIT_RATES = ("CacheHitRateCritical", "CacheHitRateWarning", "L1HitRateCritical", "L1HitRateWarning",
             "L2HitRateCritical", "L2HitRateWarning")

FAULTS: tuple[Fault, ...] = (
    Fault(
        "replica-down", "The Redis replica dies (SIGKILL); the master keeps serving.",
        kill("redis-replica"),
        fires=("RedisReplicaConnectedCritical",),
        muted=("RedisConnectionErrors",),
        after_recovery=("RedisConnectionErrors",),
        notified={"cache-chat": ("RedisReplicaConnectedCritical",)},  # a KPI-derived critical: chat, no page
        verify=Verdict(2, (("redis_replica_connected", "*", "CRITICAL"),))),
    Fault(
        "master-down", "The Redis master dies (SIGKILL); reads go to the replica, writes fail.",
        kill("redis-master"),
        fires=("RedisMasterDown",),
        muted=("RedisConnectionErrors",),
        consequences=HIT_RATES,
        after_recovery=(*HIT_RATES, "RedisConnectionErrors"),
        notified={"cache-oncall": ("RedisMasterDown",)},
        verify=Verdict(2, (("redis_master_connected", "*", "CRITICAL"),))),
    Fault(
        "cluster-down", "Replica and master die together; the cache runs on L1 and the database.",
        kill("redis-replica", "redis-master"),
        fires=("RedisClusterDown",),
        muted=("RedisMasterDown", "RedisReplicaConnectedCritical", "RedisConnectionErrors"),
        consequences=HIT_RATES,
        after_recovery=(*HIT_RATES, "RedisConnectionErrors"),
        notified={"cache-oncall": ("RedisClusterDown",)},
        verify=Verdict(2, (("redis_master_connected", "*", "CRITICAL"), ("redis_replica_connected", "*", "CRITICAL")))),
    Fault(
        "l1-shrunk", f"cache-b's L1 shrinks to {SHRUNK_L1} slots for a working set of 800 keys (fault switch).",
        shrink_l1,
        fires=("L1HitRateWarning", "L1UtilizationCritical"),
        muted=("L1CacheUtilizationHigh",),
        notified={"cache-chat": ("L1HitRateWarning", "L1UtilizationCritical")},
        verify=Verdict(2, (("l1_hit_rate", "cache-b", "WARNING"), ("l1_utilization", "cache-b", "CRITICAL")))),
    Fault(
        "exporter-killed", "cache-b dies (SIGKILL): its /metrics target is down, its last values go stale.",
        kill("cache-b"),
        transient=("ThroughputWarning", "ThroughputCritical"),
        fires=("UnifiedCacheTargetDown",),
        notified={"cache-chat": ("UnifiedCacheTargetDown",)},
        verify=Verdict(2, (("target", "cache-b", "CRITICAL"), ("l1_hit_rate", "cache-b", "NO DATA")))),
)

FAULTS_BY_NAME = {fault.name: fault for fault in FAULTS}
# Faults of the issue not proven yet, and what they wait for.
NOT_YET = (
    ("error-burst", "`ucm fault --port P errors=0.3` makes 30 % of gets fail (counted as "
     "`unified_cache_operations_total{status=\"error\"}`); no bundled alert reads that series until the "
     "SLO error-budget alerts of issue 13 arrive, so today only the error counter shows it."),
    ("database-errors", "the fault switch has no database mode and the guide defines no database alert; "
     "`unified_database_connection_errors_total` is exported and on the Operations dashboard, unalerted."),
)
TRANSIENT_WHY = {
    "exporter-killed": "rate() over the dead target's last samples thins out before the window empties.",
}

HEALTHY = Verdict(0)


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "—"


def markdown() -> str:
    """docs/faults.md: the table above as a page (tests/docs holds the committed page to it)."""
    out = [
        "# Faults and what the monitoring says",
        "",
        "<!-- Generated from src/monspec/demo/faults.py — do not edit; run `pytest tests/docs --update-golden`. -->",
        "",
        "Each row is proven live by `tests/e2e/test_faults.py` on the stack `make demo` runs (Redis master and",
        "replica, two `ucm demo` instances, Prometheus with the generated rules, Alertmanager with the generated",
        "routing), one fault after another with a recovery between, time compressed 30x. Try one yourself with",
        "`monspec demo fault NAME` (and `monspec demo fault recover`).",
        "",
        "A row promises: the alerts that fire; the ones that fire but Alertmanager mutes (inhibition); exactly one",
        "notification per receiver and alert (one PagerDuty incident, one webhook group, one Slack thread, however",
        "many instances see the fault); what `monspec verify` answers. Every other alert above info stays quiet —",
        "not even pending — and after recovery every receiver that was told gets the resolved notification.",
        "",
        "| Fault | What happens | Alerts that fire | Muted by inhibition | Muted if they fire | Notifications | `monspec verify` |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| healthy | Both instances serve their workload for three evaluation windows. | — | — | — | — | {HEALTHY.text()} |",
    ]
    for fault in FAULTS:
        notified = "; ".join(f"`{r}`: {_names(names)}" for r, names in fault.notified.items()) or "—"
        out.append(f"| {fault.name} | {fault.what} | {_names(fault.fires)} | {_names(fault.muted)} | "
                   f"{_names(fault.consequences)} | {notified} | "
                   f"{fault.verify.text()} |")
    out += ["", "Known noise on recovery, to fix: an alert muted during the fault whose window (5m) outlives",
            "the fault and the alert that muted it fires on its own once the fault is repaired. The suite",
            "fails on any late notification not listed here. A fix: `keep_firing_for` on the Redis alerts",
            "(as long as the windows they explain), or conditions that ignore the minutes after an outage.", ""]
    out += [f"- {f.name}: {_names(f.after_recovery)}" for f in FAULTS if f.after_recovery]
    out += ["", "Not yet proven live:", ""]
    out += [f"- {name}: {what}" for name, what in NOT_YET]
    out += [
        "",
        "Allowed to go pending (from how the fault is injected), never to fire:",
        "",
    ]
    for fault in FAULTS:
        if fault.transient:
            out.append(f"- {fault.name}: {_names(fault.transient)} — {TRANSIENT_WHY[fault.name]}")
    out += [
        "",
        "Not judged live: the latency KPIs (in seconds) and their alerts. They measure the machine the suite runs",
        "on; on a loaded host the p95 of the few L2 lookups a warm L1 leaves crosses 25 ms now and then.",
        "",
    ]
    return "\n".join(out)
