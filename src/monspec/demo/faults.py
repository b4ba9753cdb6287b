"""The fault table: what breaks, how to break it, and exactly what the monitoring must say.

One row per fault. `inject` breaks the demo stack, `recover` repairs any fault. The rest of
the row is the promise the live end-to-end suite proves and docs/faults.md publishes:
the alerts that fire, the ones that fire but Alertmanager mutes (inhibition), which
receivers get a notification (exactly one each) and what `monspec verify` answers. Every
alert above info that the row does not name must stay quiet.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from monspec.demo.stack import Stack

SHRUNK_L1 = 200  # slots: far below the demo's working set of 800 keys


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
    needs: str = ""  # what is still missing before this row can be proven live


def kill(*names: str) -> Callable[[Stack], None]:
    def action(stack: Stack) -> None:
        for name in names:
            stack.programs[name].kill()
        stack.save()
    return action


def shrink_l1(stack: Stack) -> None:
    """Restart cache-b with an L1 far below its working set (a bad config rollout)."""
    argv = list(stack.programs["cache-b"].usual_argv)
    argv[argv.index("--l1-size") + 1] = str(SHRUNK_L1)
    stack.restart("cache-b", argv)


def recover(stack: Stack) -> None:
    """Every program back to its usual command line, the replica in sync again."""
    for name, program in stack.programs.items():
        if not program.running or program.argv != program.usual_argv:
            stack.restart(name)
    stack.wait_replica_synced()


FAULTS: tuple[Fault, ...] = (
    Fault(
        "replica-down", "The Redis replica dies (SIGKILL); the master keeps serving.",
        kill("redis-replica"),
        fires=("RedisReplicaConnectedCritical",),
        muted=("RedisConnectionErrors",),
        notified={"cache-oncall": ("RedisReplicaConnectedCritical",)},
        verify=Verdict(2, (("redis_replica_connected", "*", "CRITICAL"),))),
    Fault(
        "master-down", "The Redis master dies (SIGKILL); reads go to the replica, writes fail.",
        kill("redis-master"),
        fires=("RedisMasterDown",),
        muted=("RedisConnectionErrors",),
        notified={"cache-oncall": ("RedisMasterDown",)},
        verify=Verdict(2, (("redis_master_connected", "*", "CRITICAL"),))),
    Fault(
        "cluster-down", "Master and replica die together; the cache runs on L1 and the database.",
        kill("redis-master", "redis-replica"),
        fires=("RedisClusterDown",),
        muted=("RedisMasterDown", "RedisReplicaConnectedCritical", "RedisConnectionErrors", "L2HitRateCritical",
               "L2HitRateWarning"),
        notified={"cache-oncall": ("RedisClusterDown",)},
        verify=Verdict(2, (("redis_master_connected", "*", "CRITICAL"), ("redis_replica_connected", "*", "CRITICAL")))),
    Fault(
        "l1-shrunk", f"cache-b restarts with an L1 of {SHRUNK_L1} slots for a working set of 800 keys.",
        shrink_l1,
        fires=("L1HitRateWarning", "L1UtilizationCritical", "CacheWarmingIneffective"),
        muted=("L1CacheUtilizationHigh",),
        notified={"cache-chat": ("L1HitRateWarning", "CacheWarmingIneffective"), "cache-oncall": ("L1UtilizationCritical",)},
        verify=Verdict(2, (("l1_hit_rate", "cache-b", "WARNING"), ("l1_utilization", "cache-b", "CRITICAL")))),
    Fault(
        "exporter-killed", "cache-b dies (SIGKILL): its /metrics target is down, its last values go stale.",
        kill("cache-b"),
        fires=("UnifiedCacheTargetDown",),
        notified={"cache-chat": ("UnifiedCacheTargetDown",)},
        verify=Verdict(2, (("target", "cache-b", "CRITICAL"), ("l1_hit_rate", "cache-b", "NO DATA")))),
)

FAULTS_BY_NAME = {fault.name: fault for fault in FAULTS}
