"""Stale reads under a fault load (issue 17's measurement, repeated on every `make bench`).

Two manager instances share a Redis master + replica and one database. For 62 seconds one
instance writes (≈ 1 000 sets/s) and both read (≈ 2 200 gets/s in all) a zipf key set,
while 9 faults hit Redis: the master, the replica and both are killed and brought back.

A read is **stale** when it returns a value older than a write the writing instance had
acknowledged before the read began. For the writer's own reads the count must be 0. For the
other instance a write becomes visible after the invalidation message arrives (or, while
Redis is unreachable, after ``UCM_L1_UNSYNCED_TTL``); its reads are counted as within that
bound or beyond it (must be 0). Lost writes (an acknowledged value missing from the database
at the end) and errors raised to callers are counted too.
"""
from __future__ import annotations

import asyncio
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

DURATION = 62.0
FAULTS = [  # (seconds after start, action)
    (5, "kill master"), (11, "start master"), (17, "kill replica"), (23, "start replica"),
    (29, "kill master"), (32, "kill replica"), (38, "start master"), (41, "start replica"), (50, "kill replica"),
]


async def _run(master, replica, data_dir: str) -> dict:
    from unified_cache import CacheConfig, ManagerMode, UnifiedConnectionManager

    config = CacheConfig.from_env(env={}, redis_url=master.url, redis_replica_url=replica.url, data_dir=data_dir,
                                  health_check_interval=0.1, redis_socket_timeout=0.2, enable_warming=False)
    bound = config.l1_unsynced_ttl + 1.0
    keys = [f"fk{i}" for i in range(500)]
    weights = [1 / (i + 1) for i in range(len(keys))]
    history: dict[str, list[tuple[int, float]]] = {k: [] for k in keys}
    counts = {"gets": 0, "sets": 0, "own_stale": 0, "other_within_bound": 0, "other_beyond_bound": 0, "errors": 0}
    stop = asyncio.Event()

    def make():
        return UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=config, registry=CollectorRegistry())

    async with make() as writer, make() as other:
        rnd = random.Random(3)

        async def write_loop():
            i = 0
            while not stop.is_set():
                key = rnd.choices(keys, weights)[0]
                try:
                    await writer.set_cached(key, i)
                    history[key].append((i, time.monotonic()))
                    counts["sets"] += 1
                except Exception:
                    counts["errors"] += 1
                i += 1
                await asyncio.sleep(0.0008)

        async def read_loop(manager, own: bool):
            r = random.Random(5 if own else 7)
            while not stop.is_set():
                key = r.choices(keys, weights)[0]
                acked = history[key][-1][0] if history[key] else None
                try:
                    got = await manager.get_cached(key)
                except Exception:
                    counts["errors"] += 1
                    continue
                counts["gets"] += 1
                if acked is not None and (got is None or got < acked):
                    if own:
                        counts["own_stale"] += 1
                    else:
                        newer = next(t for v, t in history[key] if got is None or v > got)
                        late = time.monotonic() - newer
                        counts["other_within_bound" if late < bound else "other_beyond_bound"] += 1
                await asyncio.sleep(0.0006)

        async def faults():
            start = time.monotonic()
            for at, action in FAULTS:
                await asyncio.sleep(max(0.0, start + at - time.monotonic()))
                verb, role = action.split()
                server = master if role == "master" else replica
                await asyncio.to_thread(server.kill if verb == "kill" else server.start)
            await asyncio.sleep(max(0.0, start + DURATION - time.monotonic()))
            stop.set()

        await asyncio.gather(write_loop(), read_loop(writer, True), read_loop(other, False), faults())
        lost = 0
        for key, writes in history.items():
            if writes:
                raw, _ = await writer.l3.get(key)
                lost += raw is None or int(raw) != writes[-1][0]
        counts["lost_writes"] = lost
    counts["faults"] = len(FAULTS)
    counts["bound_s"] = bound
    return counts


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.redis_server import RedisServer

    workdir = Path(tempfile.mkdtemp(prefix="ucm-faults-"))
    master = RedisServer(workdir / "master").start()
    replica = RedisServer(workdir / "replica", replica_of=master).start()
    try:
        started = time.monotonic()
        c = asyncio.run(_run(master, replica, str(workdir / "data")))
        print(f"fault load: {time.monotonic() - started:.0f} s, {c['gets']} gets, {c['sets']} sets, {c['faults']} faults")
        print(f"  stale reads, writing instance:          {c['own_stale']}   (must be 0)")
        print(f"  stale reads, other instance, > {c['bound_s']:.0f} s late: {c['other_beyond_bound']}   (must be 0)")
        print(f"  reads of the other instance within the bound (invalidation in flight): {c['other_within_bound']}")
        print(f"  lost acknowledged writes: {c['lost_writes']}   errors raised to callers: {c['errors']}")
    finally:
        for server in (replica, master):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
