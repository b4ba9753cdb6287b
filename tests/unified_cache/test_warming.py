"""Cache warming: hot keys reloaded into L1, and its effectiveness measured."""
from __future__ import annotations

import asyncio

from ucm_helpers import ops, run, sample

from unified_cache import CacheConfig, UnifiedConnectionManager
from unified_cache.warming import AccessTracker, pick_candidates


def test_tracker_scores_decay_and_top_is_bounded():
    t = AccessTracker(capacity=4)
    for key, n in (("a", 4), ("b", 2), ("c", 1)):
        for _ in range(n):
            t.record(key)
    assert t.roll() == {"a": 4.0, "b": 2.0, "c": 1.0}
    t.record("c")
    assert t.roll() == {"a": 2.0, "b": 1.0, "c": 1.5}
    assert t.top(2) == [("a", 4), ("b", 2)]
    for key in ("d", "e"):  # the fifth key prunes to the top half
        t.record(key)
    assert set(t.totals) == {"a", "b", "e"}  # top half kept (ties: first seen), then e added
    assert pick_candidates({"a": 3, "b": 0.4, "c": 1}, 0.5, 1) == ["a"]
    assert pick_candidates({"a": 3, "b": 0.4, "c": 1, "d": 1}, 0.5, 5) == ["a", "c", "d"]


def test_warming_cycle_loads_hot_keys_and_measures_effectiveness(make_config, redis_pair, make_manager, registry):
    cfg = make_config(
        *redis_pair, enable_warming=True, warming_interval=3600, warming_threshold=0.5, warming_batch_size=3,
        l1_cache_size=5,
    )

    async def body():
        async with make_manager(cfg) as m:
            for k in "abcde":
                await m.set_cached(k, k.upper())
            for k, n in (("a", 3), ("b", 2), ("c", 1)):
                for _ in range(n):
                    assert await m.get_cached(k) == k.upper()
            m.l1.clear()
            loaded = await m.run_warming_cycle()
            assert loaded == 3
            assert sorted(m.l1.keys()) == ["a", "b", "c"]
            assert sample(registry, "unified_cache_warming_operations_total") == 3
            assert sample(registry, "unified_cache_warming_cycles_total") == 1
            hits = ops(registry, "l1", "hit")
            assert await m.get_cached("a") == "A"
            assert await m.get_cached("b") == "B"
            assert ops(registry, "l1", "hit") == hits + 2
            for k in ("v", "w", "x", "y", "z"):  # fill L1: c leaves unread
                await m.set_cached(k, k)
            assert "c" not in m.l1
            assert sample(registry, "unified_cache_warming_hit_rate") == 2 / 3
            stats = await m.get_cache_stats()
            assert (stats.warming_cycles, stats.warming_operations, stats.warming_hit_rate) == (1, 3, 2 / 3)
            # Next cycle: a and b (scores 1.5 + 1, 1 + 1) were evicted and come back;
            # c's decayed score (0.5) is no longer above the threshold.
            assert await m.run_warming_cycle() == 2
            assert "a" in m.l1 and "b" in m.l1 and "c" not in m.l1
            assert sample(registry, "unified_cache_warming_cycles_total") == 2

    run(body())


def test_warming_reads_the_database_when_redis_lacks_the_key(make_config, redis_pair, make_manager):
    import redis as redis_sync

    from unified_cache.l2 import KEY_PREFIX

    cfg = make_config(*redis_pair, enable_warming=True, warming_interval=3600, warming_threshold=0.5)

    async def body():
        async with make_manager(cfg) as m:
            await m.set_cached("db-only", {"v": 1})
            await m.get_cached("db-only")
            m.l1.clear()
            redis_sync.Redis(port=redis_pair[0].port).delete(KEY_PREFIX + "db-only")
            assert await m.run_warming_cycle() == 1
            assert m.l1.get("db-only") == {"v": 1}
            assert redis_sync.Redis(port=redis_pair[0].port).get(KEY_PREFIX + "db-only") == b'1:{"v":1}'

    run(body())


def test_warming_loop_runs_every_interval(make_config, redis_pair, make_manager, registry):
    cfg = make_config(*redis_pair, enable_warming=True, warming_interval=0.02, warming_threshold=0.1)

    async def body():
        async with make_manager(cfg) as m:
            await m.set_cached("hot", 1)
            await m.get_cached("hot")
            m.l1.clear()
            start = m.warming_cycles  # cycles may have run (empty) while the value was written
            while m.warming_cycles < start + 2:
                await asyncio.sleep(0.01)
            assert "hot" in m.l1
            # The next cycle loads it; the one after refreshes it (its decayed score, 0.5, is above 0.1).
            assert sample(registry, "unified_cache_warming_operations_total") == 2

    run(body())


def test_warming_refreshes_hot_keys_already_in_l1(make_config, redis_pair, make_manager, registry):
    """Refresh-ahead: a hot key in L1 is reloaded from Redis, picking up another instance's write."""
    import redis as redis_sync

    from unified_cache.l2 import KEY_PREFIX
    cfg = make_config(*redis_pair, enable_warming=True, warming_interval=3600, warming_threshold=0.5,
                      warming_batch_size=10)

    async def body():
        async with make_manager(cfg) as m:
            await m.set_cached("hot", "old")
            for _ in range(3):
                assert await m.get_cached("hot") == "old"
            other = redis_sync.Redis(port=redis_pair[0].port)
            other.set(KEY_PREFIX + "hot", b'2:"new"')  # a newer version straight to Redis, no invalidation sent
            assert await m.get_cached("hot") == "old"  # L1 still holds the old value
            assert await m.run_warming_cycle() == 1
            assert await m.get_cached("hot") == "new"
            assert sample(registry, "unified_cache_warming_operations_total") == 1
            assert sample(registry, "unified_cache_warming_hit_rate") == 1.0

    run(body())


def test_startup_warming_loads_recent_database_entries(make_config, redis_pair, registry, tmp_path):
    cfg = make_config(*redis_pair, enable_warming=True, warming_interval=3600, warming_batch_size=2,
                      enable_startup_warming=True)

    async def body():
        async with UnifiedConnectionManager(config=cfg.replace(enable_startup_warming=False), registry=registry) as m:
            for k in ("old", "mid", "new"):
                await m.set_cached(k, k)
        async with UnifiedConnectionManager(config=cfg, registry=registry) as m:
            assert sorted(m.l1.keys()) == ["mid", "new"]
            assert m.warming_cycles == 1 and m.warming_operations == 2

    run(body())


def test_ultra_low_latency_profile_enables_startup_warming():
    cfg = CacheConfig.from_env(env={"UCM_PROFILE": "ultra_low_latency"})
    assert cfg.enable_startup_warming is True and cfg.l1_cache_size == 5000
