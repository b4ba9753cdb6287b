"""Real high availability: a Sentinel-discovered master killed under load (issue 17).

Three sentinels, a master and a replica on loopback. The master is killed while one instance
writes and two instances read; Sentinel promotes the replica; the manager follows it. Checks:
no read ever returns a value older than the last acknowledged write, writes reach Redis
again on the new master, and the metrics tell the story (master connected 1 -> 0 -> 1,
connection errors counted, one failover). The failover time is printed, not asserted
beyond a generous bound (timing under load is not a test's business).
"""
from __future__ import annotations

import asyncio
import time

import pytest
import redis as redis_sync
from prometheus_client import CollectorRegistry
from ucm_helpers import run, sample

from support.sentinel import SentinelDeployment
from unified_cache import CacheConfig, ManagerMode, UnifiedConnectionManager
from unified_cache.l2 import KEY_PREFIX


@pytest.fixture
def sentinels(tmp_path):
    deployment = SentinelDeployment(tmp_path / "sentinel").start()
    yield deployment
    deployment.stop()


def test_master_killed_sentinel_promotes_and_the_cache_follows(sentinels, tmp_path, registry):
    cfg = CacheConfig.from_env(
        env={"REDIS_SENTINELS": sentinels.addresses, "REDIS_SENTINEL_SERVICE": "mymaster"},
        data_dir=str(tmp_path / "data"), health_check_interval=0.05, redis_socket_timeout=0.3, enable_warming=False,
    )
    keys = [f"k{i}" for i in range(50)]
    old_master = sentinels.current_master()

    async def body():
        async with UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=cfg, registry=registry) as writer, \
                UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=cfg, registry=CollectorRegistry()) as reader:
            assert writer.l2.master_address == old_master and writer.l2.master_up
            acknowledged: dict[str, int] = {}
            history: dict[str, list[tuple[int, float]]] = {k: [] for k in keys}  # (value, acknowledged at)
            stale: list[tuple] = []  # the writer's own reads older than its acknowledged writes
            lag: list[float] = []  # the other instance: how long ago the first newer value was acknowledged
            master_seen: list[float] = []
            stop = asyncio.Event()

            async def write_loop():
                i = 0
                while not stop.is_set():
                    key = keys[i % len(keys)]
                    await writer.set_cached(key, i)
                    acknowledged[key] = i
                    history[key].append((i, time.monotonic()))
                    i += 1
                    await asyncio.sleep(0)

            async def read_loop(manager):
                i = 0
                while not stop.is_set():
                    key = keys[(i * 7) % len(keys)]
                    floor = acknowledged.get(key)  # acknowledged before this read began
                    got = await manager.get_cached(key)
                    if floor is not None and (got is None or got < floor):
                        if manager is writer:
                            stale.append((key, got, floor))
                        else:
                            newer = next(t for v, t in history[key] if got is None or v > got)
                            lag.append(time.monotonic() - newer)
                    i += 1
                    await asyncio.sleep(0)

            async def watch_master():
                while not stop.is_set():
                    master_seen.append(sample(registry, "unified_redis_master_connected"))
                    await asyncio.sleep(0.02)

            tasks = [asyncio.create_task(t) for t in (write_loop(), read_loop(writer), read_loop(reader), watch_master())]
            await asyncio.sleep(0.5)
            killed = time.monotonic()
            await asyncio.to_thread(sentinels.master.kill)
            while not (writer.l2.failovers == 1 and writer.l2.master_up):
                assert time.monotonic() - killed < 30, "the cache never followed the promotion"
                await asyncio.sleep(0.01)
            resumed = time.monotonic() - killed
            await asyncio.sleep(0.5)  # keep the load on the new master for a while
            stop.set()
            await asyncio.gather(*tasks)

            new_master = sentinels.current_master()
            assert new_master == writer.l2.master_address == ("127.0.0.1", sentinels.replica.port)
            assert stale == []
            bound = cfg.l1_unsynced_ttl + 1.0  # the cross-instance bound (see docs/unified_cache.md)
            assert max(lag, default=0) < bound, f"the other instance lagged {max(lag):.2f}s"
            # writes reach Redis again, on the promoted server
            await writer.set_cached("after", "failover")
            assert redis_sync.Redis(port=new_master[1]).get(KEY_PREFIX + "after").endswith(b':"failover"')
            assert 0 in master_seen and master_seen[0] == 1 and master_seen[-1] == 1
            assert sample(registry, "unified_redis_connection_errors_total", role="master") >= 1
            while not (reader.l2.failovers == 1 and reader.l2.master_up):
                await asyncio.sleep(0.01)
            for key, value in acknowledged.items():
                assert await reader.get_cached(key) == value
            print(f"\nsentinel failover: writes reached Redis again {resumed:.2f}s after the master was killed; "
                  f"writer stale reads {len(stale)}; other instance: {len(lag)} reads behind, "
                  f"at most {max(lag, default=0) * 1000:.0f} ms")

    run(body())
