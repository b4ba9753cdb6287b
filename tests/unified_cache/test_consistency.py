"""Correctness under concurrency and partial failure (issue 17): each test reproduces one way
the cache used to serve or keep a value older than an acknowledged write.

Two managers on the same Redis and database stand for two application instances. Races are
made deterministic by pausing one instance's read at a chosen point, never by sleeping.
"""
from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import redis as redis_sync
from prometheus_client import CollectorRegistry
from ucm_helpers import ops, run, sample

from unified_cache import DatabaseError, ManagerMode, UnifiedConnectionManager
from unified_cache.l2 import KEY_PREFIX


def instance(config) -> UnifiedConnectionManager:
    """Another application instance: same settings, its own L1 and metrics."""
    return UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=config, registry=CollectorRegistry())


def pause_after(obj, name: str) -> tuple[asyncio.Event, asyncio.Event]:
    """Make ``obj.name`` (a coroutine method) stop after it returned, until ``gate`` is set.
    Returns (reached, gate)."""
    reached, gate = asyncio.Event(), asyncio.Event()
    real = getattr(obj, name)

    async def paused(*args, **kwargs):
        result = await real(*args, **kwargs)
        reached.set()
        await gate.wait()
        return result

    setattr(obj, name, paused)
    return reached, gate


def redis_value(server, key: str) -> bytes | None:
    return redis_sync.Redis(port=server.port).get(KEY_PREFIX + key)


@pytest.mark.parametrize("write", ["set", "delete"])
def test_read_racing_another_instances_write_never_installs_the_old_value(config, make_manager, redis_pair, write):
    master, _ = redis_pair

    async def body():
        async with make_manager(config) as a, instance(config) as b:
            await a.set_cached("k", "old")
            a.l1.clear()
            redis_sync.Redis(port=master.port).delete(KEY_PREFIX + "k")  # a's read must go to the database
            reached, gate = pause_after(a.l3, "get")
            read = asyncio.create_task(a.get_cached("k"))
            await reached.wait()  # a holds "old" from the database, about to refill the caches
            if write == "set":
                await b.set_cached("k", "new")
            else:
                await b.delete_cached("k")
            acknowledged = "new" if write == "set" else None
            gate.set()
            assert await read == "old"  # the read began before the write: either value is fine
            await asyncio.sleep(0.05)  # let a's invalidation message arrive (pub/sub, not needed for L2)
            assert b'"old"' not in (redis_value(master, "k") or b"")  # Redis never went back
            assert await a.get_cached("k") == acknowledged
            assert await b.get_cached("k") == acknowledged

    run(body())


def test_read_racing_a_write_in_the_same_instance(config, make_manager, redis_pair):
    master, _ = redis_pair

    async def body():
        async with make_manager(config) as a:
            await a.set_cached("k", "old")
            a.l1.clear()
            reached, gate = pause_after(a.l2, "get")
            read = asyncio.create_task(a.get_cached("k"))
            await reached.wait()
            await a.set_cached("k", "new")
            gate.set()
            await read
            assert await a.get_cached("k") == "new"
            assert redis_value(master, "k").endswith(b':"new"')

    run(body())


def test_two_instances_agree_within_a_bound_after_a_write(config, make_manager):
    async def body():
        async with make_manager(config) as a, instance(config) as b:
            await a.set_cached("shared", 1)
            assert await b.get_cached("shared") == 1  # now in b's L1 (TTL one hour)
            assert await b.get_cached("shared") == 1 and b.l1_hits == 1
            misses = b.l1_misses
            await a.set_cached("shared", 2)
            acknowledged = time.monotonic()
            while await b.get_cached("shared") != 2:
                assert time.monotonic() - acknowledged < 2.0, "b kept serving the old value"
                await asyncio.sleep(0.001)
            assert b.l1_misses == misses  # the new value came with the message: no L1 miss
            await a.delete_cached("shared")
            while await b.get_cached("shared") is not None:
                assert time.monotonic() - acknowledged < 4.0, "b kept serving a deleted value"
                await asyncio.sleep(0.001)

    run(body())


def test_l1_is_cleared_and_short_lived_while_the_invalidation_channel_is_down(make_config, redis_pair_factory, make_manager):
    master, replica = redis_pair_factory()
    cfg = make_config(master, replica, l1_unsynced_ttl=0.5)

    async def body():
        async with make_manager(cfg) as a:
            await a.set_cached("k", 1)
            assert a.l2.synced and "k" in a.l1
            await asyncio.to_thread(master.kill)
            while a.l2.synced:
                await a.l2.wait_health_checks(1)
            assert len(a.l1) == 0  # messages may be missed from now on
            await a.set_cached("k", 2)
            assert a.l1._data["k"][1] - a.l1.clock() <= 0.5  # short TTL until the channel is back

    run(body())


def test_replica_that_lost_its_master_is_not_read(make_config, redis_pair_factory, make_manager):
    master, replica = redis_pair_factory()
    cfg = make_config(master, replica)

    async def body():
        async with instance(cfg) as setup:
            await setup.set_cached("k", "v1")
        assert redis_sync.Redis(port=master.port).wait(1, 5000) == 1  # the replica has v1
        async with make_manager(cfg) as a:
            await asyncio.to_thread(master.kill)
            await a.l2.wait_health_checks(2)
            async with instance(cfg) as b:  # another instance writes while the master is down
                await b.set_cached("k", "v2")
            a.l1.clear()
            assert await a.get_cached("k") == "v2"  # not the replica's v1

    run(body())


def test_refused_command_does_not_mark_the_master_down(config, make_manager, registry, redis_pair):
    master, _ = redis_pair
    admin = redis_sync.Redis(port=master.port)

    async def body():
        async with make_manager(config) as a:
            await a.set_cached("k", "v1")
            admin.config_set("maxmemory-policy", "noeviction")
            admin.config_set("maxmemory", "1")
            try:
                await a.set_cached("k", "v2")  # the database takes it; Redis answers OOM
            finally:
                admin.config_set("maxmemory", "0")
            await a.l2.wait_health_checks(2)
            assert a.l2.master_up and a.health_status == "healthy"
            assert sample(registry, "unified_redis_connection_errors_total", role="master") == 0
            assert sample(registry, "unified_redis_command_errors_total", role="master", kind="oom") == 1
            assert sample(registry, "unified_redis_master_connected") == 1
            assert redis_value(master, "k") is None  # v1 was dropped, not left behind
            a.l1.clear()
            assert await a.get_cached("k") == "v2"

    run(body())


@pytest.mark.parametrize("key", [b"bytes-key", 42, "", "x" * 1025])
def test_bad_keys_are_refused_before_the_database_is_written(config, make_manager, key):
    async def body():
        async with make_manager(config) as a:
            with pytest.raises((TypeError, ValueError), match="cache keys must be"):
                await a.set_cached(key, 1)
            with pytest.raises((TypeError, ValueError), match="cache keys must be"):
                await a.set_many_cached({"fine": 1, key: 2})
            assert await a.l3.recent(10) == {}  # no row was written, not even "fine"

    run(body())


def test_l1_is_bounded_by_measured_bytes(make_config, redis_pair, make_manager, registry):
    cfg = make_config(*redis_pair, l1_max_bytes=50_000)
    nested = {"a": {"b": ["x" * 10_000, {"c": "y" * 10_000}]}}

    async def body():
        async with make_manager(cfg) as a:
            await a.set_cached("nested", nested)
            encoded = len(b'{"a":{"b":["' + b"x" * 10_000 + b'",{"c":"' + b"y" * 10_000 + b'"}]}}')
            assert a.l1.memory_bytes == len("nested") + encoded
            for i in range(10):
                await a.set_cached(f"n{i}", nested)
            assert a.l1.memory_bytes <= 50_000
            assert len(a.l1) == 2
            assert sample(registry, "unified_cache_l1_evictions_total") == 9
            assert sample(registry, "unified_cache_l1_memory_usage_bytes") == a.l1.memory_bytes

    run(body())


def test_sqlite_writer_blocked_by_a_lock_fails_fast_and_is_counted(make_config, redis_pair, make_manager, registry):
    config = make_config(*redis_pair)  # SQLite only: PostgreSQL writers wait on row locks, not a file lock

    async def body():
        async with make_manager(config) as a:
            await a.set_cached("k", 1)
            blocker = sqlite3.connect(Path(config.data_dir) / "ucm.sqlite3", isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            try:
                started = time.monotonic()
                with pytest.raises(DatabaseError, match="locked"):
                    await a.set_cached("k", 2)
                assert time.monotonic() - started < 20  # was 30 s; now UCM's 2 s busy timeout
            finally:
                blocker.rollback()
                blocker.close()
            assert sample(registry, "unified_database_connection_errors_total") == 1
            assert await a.get_cached("k") == 1

    run(body())


def test_a_get_that_fails_in_the_database_is_counted_as_an_error(config, make_manager, registry):
    async def body():
        async with make_manager(config) as a:
            async def broken(key):
                raise DatabaseError("database unreachable")

            a.l3.get = broken
            with pytest.raises(DatabaseError):
                await a.get_cached("k")
            assert (ops(registry, "l1", "miss"), ops(registry, "l2", "miss"), ops(registry, "l3", "error")) == (1, 1, 1)
            assert sample(registry, "unified_cache_operation_duration_seconds_count", cache_level="l3") == 1

    run(body())


def test_the_database_fault_switch_fails_database_calls_as_a_lost_database(config, make_manager, registry):
    """`db_errors=1`: writes and gets that reach L3 fail as DatabaseError and are counted where a
    real database failure is; a get L1 answers goes on; `clear` brings the database back."""
    async def body():
        async with make_manager(config) as a:
            await a.set_cached("held", 1)
            a.faults.set(db_errors=1)
            with pytest.raises(DatabaseError, match="injected database error"):
                await a.set_cached("k", 2)
            with pytest.raises(DatabaseError, match="injected database error"):
                await a.get_cached("never-written")
            assert await a.get_cached("held") == 1
            assert sample(registry, "unified_database_connection_errors_total") == 2
            assert (ops(registry, "l1", "hit"), ops(registry, "l3", "error")) == (1, 1)
            a.faults.set(db_errors=0)
            await a.set_cached("k", 2)
            assert await a.get_cached("k") == 2

    run(body())
