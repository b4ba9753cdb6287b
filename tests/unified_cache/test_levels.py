"""Read and write paths through L1 -> L2 -> L3, against a real Redis and SQLite."""
from __future__ import annotations

import redis as redis_sync
from ucm_helpers import ops, run, sample

from unified_cache import DatabaseError, UnifiedConnectionManager
from unified_cache.l1 import MISS, L1Cache
from unified_cache.l2 import KEY_PREFIX


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_miss_at_every_level_then_write_through(config, make_manager, registry, redis_pair):
    master, _ = redis_pair

    async def body():
        async with make_manager(config) as m:
            assert await m.get_cached("k") is None
            assert [ops(registry, lvl, st) for lvl in ("l1", "l2", "l3") for st in ("hit", "miss")] == [0, 1, 0, 1, 0, 1]
            await m.set_cached("k", {"n": 1}, ttl=120)
            # write-through: the database, Redis and L1 hold the value
            assert await m.l3.get("k") == (b'{"n":1}', 1)
            assert redis_sync.Redis(port=master.port).get(KEY_PREFIX + "k") == b'1:{"n":1}'
            assert 0 < await m.l2.ttl("k") <= 120
            assert "k" in m.l1
            assert await m.get_cached("k") == {"n": 1}
            assert ops(registry, "l1", "hit") == 1
            assert ops(registry, "l2", "hit") == 0

    run(body())


def test_l2_hit_fills_l1(config, make_manager, registry):
    async def body():
        async with make_manager(config) as m:
            await m.set_cached("k", [1, 2])
            m.l1.clear()
            assert await m.get_cached("k") == [1, 2]
            assert (ops(registry, "l1", "miss"), ops(registry, "l2", "hit"), ops(registry, "l3", "hit")) == (1, 1, 0)
            assert "k" in m.l1
            assert await m.get_cached("k") == [1, 2]
            assert ops(registry, "l1", "hit") == 1
            stats = await m.get_cache_stats()
            assert (stats.l1_hits, stats.l2_hits, stats.l3_hits, stats.total_requests) == (1, 1, 0, 2)
            assert stats.hit_rate == 1.0

    run(body())


def test_l3_hit_refills_l2_and_l1(config, make_manager, registry, redis_pair):
    master, _ = redis_pair

    async def body():
        async with make_manager(config) as m:
            await m.set_cached("k", "v")
            m.l1.clear()
            redis_sync.Redis(port=master.port).delete(KEY_PREFIX + "k")
            assert await m.get_cached("k") == "v"
            assert (ops(registry, "l2", "miss"), ops(registry, "l3", "hit")) == (1, 1)
            assert redis_sync.Redis(port=master.port).get(KEY_PREFIX + "k") == b'1:"v"'
            assert "k" in m.l1
            stats = await m.get_cache_stats()
            assert (stats.l3_hits, stats.hit_rate) == (1, 0.0)

    run(body())


def test_values_survive_a_new_process_through_the_database(config, make_manager, registry):
    async def body():
        async with make_manager(config) as m:
            await m.set_cached("persist", {"a": (1, 2)})
            assert await m.get_cached("persist") == {"a": [1, 2]}  # L1 holds what L2/L3 return
        no_redis = config.replace(redis_url=None, redis_replica_url=None)
        async with UnifiedConnectionManager(config=no_redis, registry=registry) as fresh:
            assert await fresh.get_cached("persist") == {"a": [1, 2]}
            assert fresh.health_status == "emergency"

    run(body())


def test_delete_removes_every_level(config, make_manager, redis_pair):
    master, _ = redis_pair

    async def body():
        async with make_manager(config) as m:
            await m.set_cached("gone", 1)
            assert await m.delete_cached("gone") is True
            assert "gone" not in m.l1
            assert await m.l3.get("gone") == (None, 2)  # a tombstone at the next version
            assert redis_sync.Redis(port=master.port).get(KEY_PREFIX + "gone") == b"2:"
            assert await m.get_cached("gone") is None
            assert await m.delete_cached("gone") is False

    run(body())


def test_non_json_values_are_refused_before_anything_is_written(config, make_manager):
    async def body():
        async with make_manager(config) as m:
            try:
                await m.set_cached("bad", object())
            except ValueError as exc:
                assert "JSON" in str(exc)
            else:
                raise AssertionError("expected ValueError")
            assert await m.l3.get("bad") == (None, 0)
            assert "bad" not in m.l1

    run(body())


def test_l1_ttl_expiry_falls_through_to_l2(config, make_manager, registry):
    clock = FakeClock()

    async def body():
        async with make_manager(config, clock=clock) as m:
            await m.set_cached("t", "x", ttl=30)
            clock.now += 29
            assert await m.get_cached("t") == "x"
            assert ops(registry, "l1", "hit") == 1
            clock.now += 2
            assert await m.get_cached("t") == "x"
            assert (ops(registry, "l1", "miss"), ops(registry, "l2", "hit")) == (1, 1)
            assert m.l1.expirations == 1

    run(body())


def test_l1_lru_eviction_order_and_metrics(registry):
    cache = L1Cache(3)
    for k in "abc":
        cache.set(k, k, ttl=60, version=1, size=2)
    assert cache.get("a") == "a"  # a becomes most recent
    cache.set("d", "d", ttl=60, version=1, size=2)  # evicts b, the least recently used
    assert cache.get("b") is MISS
    assert cache.keys() == ["c", "a", "d"]
    assert cache.evictions == 1
    assert cache.utilization == 1.0


def test_l1_memory_accounting_returns_to_zero():
    cache = L1Cache(2)
    cache.set("a", "x" * 1000, ttl=60, version=1, size=1003)
    assert cache.memory_bytes == 1003
    cache.set("b", {"k": "v"}, ttl=60, version=1, size=10)
    cache.set("c", [1, 2, 3], ttl=60, version=1, size=8)  # evicts a
    assert cache.memory_bytes == 18
    cache.delete("b")
    cache.delete("c")
    assert (len(cache), cache.memory_bytes) == (0, 0)


def test_eviction_counter_and_l1_gauges(make_config, redis_pair, make_manager, registry):
    cfg = make_config(*redis_pair, l1_cache_size=2)

    async def body():
        async with make_manager(cfg) as m:
            for k in ("a", "b", "c"):
                await m.set_cached(k, k)
            assert sample(registry, "unified_cache_l1_evictions_total") == 1
            assert sample(registry, "unified_cache_l1_size") == 2
            assert sample(registry, "unified_cache_l1_max_size") == 2
            assert sample(registry, "unified_cache_l1_utilization") == 1.0
            assert sample(registry, "unified_cache_l1_memory_usage_bytes") == m.l1.memory_bytes > 0
            assert await m.get_cached("a") == "a"  # evicted from L1, still in L2
            assert ops(registry, "l2", "hit") == 1

    run(body())


def test_database_failure_is_raised_and_counted(config, make_manager, registry):
    async def body():
        async with make_manager(config) as m:
            await m.set_cached("k", 1)

            def broken(cur):
                cur.execute("SELECT * FROM no_such_table")

            try:
                await m.l3._run(broken)
            except DatabaseError as exc:
                assert "no_such_table" in str(exc)
            else:
                raise AssertionError("expected DatabaseError")
            assert sample(registry, "unified_database_connection_errors_total") == 1
            assert m.get_connection_metrics().database_errors == 1
            assert await m.get_cached("k") == 1  # the pool still works

    run(body())


def test_unknown_database_scheme_is_a_clear_error(tmp_path):
    from unified_cache.errors import ConfigurationError
    from unified_cache.l3 import open_database

    for url, words in (("mysql://x/y", "unsupported scheme"), ("sqlite:///:memory:", "file path")):
        try:
            open_database(url, str(tmp_path), 2, lambda: None)
        except ConfigurationError as exc:
            assert words in str(exc)
        else:
            raise AssertionError(url)


def test_sqlite_url_is_used(tmp_path, make_config, redis_pair, make_manager):
    path = tmp_path / "custom.db"
    cfg = make_config(*redis_pair, database_url=f"sqlite:///{path}")

    async def body():
        async with make_manager(cfg) as m:
            await m.set_cached("k", 1)
        assert path.exists()

    run(body())


def test_concurrent_write_during_a_fetch_is_not_overwritten(config, make_manager, registry):
    import asyncio

    async def body():
        async with make_manager(config) as m:
            await m.set_cached("k", "old")
            m.l1.clear()
            read = asyncio.create_task(m.get_cached("k"))  # goes to L2
            await asyncio.sleep(0)
            await m.set_cached("k", "new")
            assert await read in ("old", "new")
            assert await m.get_cached("k") == "new"

    run(body())


def test_bulk_write_and_delete(config, make_manager, registry, redis_pair):
    master, _ = redis_pair
    items = {f"b{i}": {"i": i} for i in range(50)}

    async def body():
        async with make_manager(config) as m:
            await m.set_many_cached(items, ttl=60)
            assert await m.l3.get_many(list(items)) == {k: (f'{{"i":{v["i"]}}}'.encode(), 1) for k, v in items.items()}
            assert redis_sync.Redis(port=master.port).get(KEY_PREFIX + "b7") == b'1:{"i":7}'
            assert 0 < await m.l2.ttl("b7") <= 60
            assert await m.get_cached("b7") == {"i": 7} and ops(registry, "l1", "hit") == 1
            await m.delete_many_cached(list(items))
            assert len(m.l1) == 0
            assert await m.l3.get_many(list(items)) == {}
            assert set(redis_sync.Redis(port=master.port).mget([KEY_PREFIX + k for k in items])) == {b"2:"}

    run(body())


def test_replica_without_master_is_refused(config, registry):
    from unified_cache.errors import ConfigurationError

    try:
        UnifiedConnectionManager(config=config.replace(redis_url=None), registry=registry)
    except ConfigurationError as exc:
        assert "REDIS_URL (the master) is not" in str(exc)
    else:
        raise AssertionError("expected ConfigurationError")


def test_using_the_manager_before_initialize_is_a_clear_error(config, make_manager):
    from unified_cache import UnifiedCacheError

    async def body():
        m = make_manager(config)
        for call in (m.get_cached("k"), m.set_cached("k", 1)):
            try:
                await call
            except UnifiedCacheError as exc:
                assert "initialize()" in str(exc)
            else:
                raise AssertionError("expected UnifiedCacheError")

    run(body())
