"""Redis failures: the master killed mid-workload, both servers down, and recovery.

Health checks run every 50 ms here; the tests wait for a number of completed checks,
never for wall-clock time.
"""
from __future__ import annotations

import asyncio

import redis as redis_sync
from ucm_helpers import ops, run, sample

from unified_cache.l2 import KEY_PREFIX


async def wait_for(predicate, manager, max_checks: int = 400) -> None:
    """Wait health check by health check until ``predicate()`` holds."""
    for _ in range(max_checks):
        if predicate():
            return
        await manager.l2.wait_health_checks(1)
    raise AssertionError("condition never held")


def test_master_killed_mid_workload(make_config, redis_pair_factory, make_manager, registry):
    master, replica = redis_pair_factory()
    cfg = make_config(master, replica, l1_cache_size=50)
    keys = [f"k{i}" for i in range(100)]

    async def body():
        expected = {}
        async with make_manager(cfg) as setup:
            for k in keys:
                await setup.set_cached(k, f"{k}-v0")
                expected[k] = f"{k}-v0"
        assert redis_sync.Redis(port=master.port).wait(1, 5000) == 1  # the replica has them all
        written = set()
        async with make_manager(cfg) as m:
            done = 0
            wrong = []
            errors = []
            stop = asyncio.Event()

            async def workload():
                nonlocal done
                i = 0
                while not stop.is_set():
                    k = keys[(i * 7) % len(keys)]
                    try:
                        if i % 10 == 0:
                            value = f"{k}-v{i}"
                            await m.set_cached(k, value)
                            expected[k] = value
                            written.add(k)
                        else:
                            got = await m.get_cached(k)
                            if got != expected[k]:
                                wrong.append((k, got, expected[k]))
                    except Exception as exc:  # the contract: none reach the caller
                        errors.append(exc)
                    i += 1
                    done += 1
                    await asyncio.sleep(0)

            task = asyncio.create_task(workload())
            while done < 300:
                await asyncio.sleep(0.001)
            await asyncio.to_thread(master.kill)
            await m.l2.wait_health_checks(2)
            assert sample(registry, "unified_redis_master_connected") == 0
            assert sample(registry, "unified_redis_replica_connected") == 1
            assert m.health_status == "degraded"
            target = done + 300
            while done < target:
                await asyncio.sleep(0.001)
            stop.set()
            await task
            assert errors == []
            assert wrong == []
            assert sample(registry, "unified_redis_connection_errors_total", role="master") >= 1
            assert sample(registry, "unified_redis_connection_errors_total", role="replica") == 0

            # The replica lost its link to the dead master, so it may lack the last writes:
            # reads skip it for the database, even for keys this instance never touched.
            assert m.l2.replica_up and not m.l2.replica_in_sync
            untouched = next(k for k in keys if k not in written)
            m.l1.clear()
            l3_hits = ops(registry, "l3", "hit")
            assert await m.get_cached(untouched) == expected[untouched]
            assert ops(registry, "l3", "hit") == l3_hits + 1
            await m.set_cached("k1", "during-outage")
            assert "k1" in m.l2.dirty
            m.l1.clear()
            l3_hits = ops(registry, "l3", "hit")
            assert await m.get_cached("k1") == "during-outage"
            assert ops(registry, "l3", "hit") == l3_hits + 1

            # Recovery: the master comes back on the same port and is used again.
            await asyncio.to_thread(master.start)
            await wait_for(lambda: m.l2.master_up and m.l2.replica_in_sync, m)
            assert m.l2.dirty == set()
            assert sample(registry, "unified_redis_master_connected") == 1
            assert m.health_status == "healthy"
            await m.set_cached("k2", "after")
            assert redis_sync.Redis(port=master.port).get(KEY_PREFIX + "k2").endswith(b':"after"')
            m.l1.clear()
            assert await m.get_cached("k1") == "during-outage"
            assert await m.get_cached("k2") == "after"

    run(body())


def test_both_down_is_emergency_mode_and_recovers(make_config, redis_pair_factory, make_manager, registry):
    master, replica = redis_pair_factory()
    cfg = make_config(master, replica)

    async def body():
        async with make_manager(cfg) as m:
            await m.set_cached("a", 1)
            assert m.health_status == "healthy"
            await asyncio.to_thread(replica.kill)
            await asyncio.to_thread(master.kill)
            await m.l2.wait_health_checks(2)
            assert m.health_status == "emergency"
            assert (await m.get_cache_stats()).health_status == "emergency"
            conn = m.get_connection_metrics()
            assert (conn.redis_master_connected, conn.redis_replica_connected) == (False, False)
            assert sample(registry, "unified_redis_master_connected") == 0
            assert sample(registry, "unified_redis_replica_connected") == 0
            for role in ("master", "replica"):
                assert sample(registry, "unified_redis_connection_errors_total", role=role) >= 1

            # L1 + L3 keep serving: writes are durable, reads correct, L2 counted as a miss.
            await m.set_cached("b", 2)
            m.l1.clear()
            before = (ops(registry, "l2", "miss"), ops(registry, "l3", "hit"))
            assert await m.get_cached("a") == 1
            assert await m.get_cached("b") == 2
            assert await m.get_cached("a") == 1  # now from L1
            assert (ops(registry, "l2", "miss"), ops(registry, "l3", "hit")) == (before[0] + 2, before[1] + 2)
            assert await m.get_cached("missing") is None

            await asyncio.to_thread(master.start)
            await asyncio.to_thread(replica.start)
            await wait_for(lambda: m.health_status == "healthy", m)
            await m.set_cached("c", 3)
            assert redis_sync.Redis(port=master.port).get(KEY_PREFIX + "c").endswith(b":3")

    run(body())


def test_starts_in_emergency_mode_without_redis(make_config, make_manager, registry):
    cfg = make_config()  # nothing listens on port 1

    async def body():
        async with make_manager(cfg) as m:
            assert m.health_status == "emergency"
            await m.set_cached("x", "y")
            m.l1.clear()
            assert await m.get_cached("x") == "y"
            assert ops(registry, "l3", "hit") == 1
            assert sample(registry, "unified_redis_connection_errors_total", role="master") >= 1

    run(body())
