"""unified_cache benchmark: figures measured side by side in one run (no assertions).

1. L1 hit through the manager (metrics on) beside ``dict``, ``functools.lru_cache`` and
   ``cachetools.LRUCache`` gets: p50 / p99 in ns. Target: manager p50 <= 1 us.
2. The cache against the database it fronts, called as an application would: SQLite in
   the calling thread, and PostgreSQL over loopback (when PostgreSQL 15 is installed), with
   the library's thread-pool hop reported apart. The guide's 8.4x is printed beside the
   measured ratio, whatever that is.

Starts its own redis-server (and PostgreSQL) on free loopback ports, in temp directories.
"""
from __future__ import annotations

import asyncio
import functools
import shutil
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

N_L1 = 100_000
ITERATIONS = 20_000


def _pct(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, times: list[int]) -> str:
    return f"  {name:<34} p50 {_pct(times, .5):6d} ns   p99 {_pct(times, .99):6d} ns"


def _sync_gets(get, key) -> list[int]:
    perf = time.perf_counter_ns
    times = []
    for _ in range(N_L1):
        t = perf()
        get(key)
        times.append(perf() - t)
    return times


async def _l1_table(manager) -> None:
    import cachetools

    await manager.set_cached("bench:l1", {"payload": "x" * 64})
    perf = time.perf_counter_ns
    get = manager.get_cached
    times = []
    for _ in range(N_L1):
        t = perf()
        await get("bench:l1")
        times.append(perf() - t)
    plain = {f"k{i}": i for i in range(1000)}
    lru = cachetools.LRUCache(maxsize=2000)
    for i in range(1000):
        lru[f"k{i}"] = i

    @functools.lru_cache(maxsize=2000)
    def cached(key):
        return key

    print("L1 hit (one key, 100 000 gets, same run):")
    print(_row("manager.get_cached (metrics on)", times) + "   (target p50 <= 1000 ns)")
    print(_row("dict.get", _sync_gets(plain.get, "k500")))
    print(_row("functools.lru_cache", _sync_gets(cached, "k500")))
    print(_row("cachetools.LRUCache.get", _sync_gets(lru.get, "k500")))


async def _versus_database(config, label: str) -> None:
    from unified_cache import ManagerMode, UnifiedConnectionManager
    from unified_cache.operations import benchmark_report, run_benchmark

    async with UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=config, registry=CollectorRegistry()) as m:
        result = await run_benchmark(m, ITERATIONS)
    print(f"Cache vs {label} ({ITERATIONS} zipf reads, {result['workload']['keys']} keys, "
          f"L1 {result['workload']['l1_cache_size']}):")
    for line in benchmark_report(result)[1:]:
        print(line)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.postgres_server import PostgresServer
    from support.redis_server import RedisServer
    from unified_cache import CacheConfig, ManagerMode, UnifiedConnectionManager

    workdir = Path(tempfile.mkdtemp(prefix="ucm-bench-"))
    redis = RedisServer(workdir / "redis").start()
    postgres = None
    try:
        config = CacheConfig.from_env(env={}, redis_url=redis.url, data_dir=str(workdir / "data"), enable_warming=False)

        async def l1() -> None:
            async with UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=config,
                                                registry=CollectorRegistry()) as m:
                await _l1_table(m)

        asyncio.run(l1())
        print()
        asyncio.run(_versus_database(config, "SQLite"))
        if Path("/usr/lib/postgresql/15/bin/postgres").exists():
            # versions restart with a new database: drop the first run's entries from Redis
            import redis as redis_sync

            redis_sync.Redis(port=redis.port).flushall()
            postgres = PostgresServer().start()
            print()
            asyncio.run(_versus_database(config.replace(database_url=postgres.url()), "PostgreSQL 15 over loopback"))
        else:
            print("\nPostgreSQL 15 not installed: the PostgreSQL comparison is skipped (scripts/install-programs.sh)")
    finally:
        if postgres is not None:
            postgres.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
