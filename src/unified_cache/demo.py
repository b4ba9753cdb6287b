"""`ucm demo`: a realistic workload through the manager, with /metrics served for scraping.

Reads follow zipf-like popularity; a read that finds nothing fills the key (read-through,
as an application would after computing the value); a share of operations are writes.
The loop is paced to ``rate`` operations per second and keeps going when Redis is down
(the manager runs in emergency mode), so live tests can scrape it through failures.
"""
from __future__ import annotations

import asyncio
import signal
import time

from prometheus_client import REGISTRY, CollectorRegistry

from .config import CacheConfig
from .errors import UnifiedCacheError
from .manager import ManagerMode, UnifiedConnectionManager
from .server import CacheServer
from .workload import ZipfKeys, value_for


async def run_demo(
    config: CacheConfig,
    *,
    port: int,
    keys: int = 2000,
    rate: float = 500.0,
    duration: float = 60.0,
    write_ratio: float = 0.05,
    registry: CollectorRegistry = REGISTRY,
    echo=print,
) -> dict:
    manager = UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=config, registry=registry)
    await manager.initialize()
    loop = asyncio.get_running_loop()
    server = CacheServer(registry, manager, loop, port=port).start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    echo(f"serving metrics on http://127.0.0.1:{server.port}/metrics")
    echo(f"inject faults with: ucm fault --port {server.port} errors=0.2   (or db_errors=1, l1_delay_ms=20, l1_size=10, clear)")
    workload = ZipfKeys(keys, prefix="demo:")
    rnd = workload.random
    done = failed = 0
    versions: dict[str, int] = {}
    start = time.monotonic()
    try:
        while not stop.is_set():
            elapsed = time.monotonic() - start
            if duration and elapsed >= duration:
                break
            due = int(elapsed * rate) - done
            if due <= 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=min(0.01, 1.0 / rate))
                except TimeoutError:
                    pass
                continue
            for key in workload.draw(min(due, 1000)):
                try:
                    if rnd.random() < write_ratio:
                        versions[key] = versions.get(key, 0) + 1
                        await manager.set_cached(key, value_for(key, versions[key]))
                    elif await manager.get_cached(key) is None:
                        await manager.set_cached(key, value_for(key, versions.get(key, 0)))
                except UnifiedCacheError:
                    failed += 1  # counted in the metrics (injected faults, database errors); go on
                done += 1
            await asyncio.sleep(0)
    finally:
        stats = await manager.get_cache_stats()
        await manager.close()
        server.stop()
    summary = {
        "operations": done,
        "failed": failed,
        "seconds": round(time.monotonic() - start, 3),
        "hit_rate": round(stats.hit_rate, 4),
        "health_status": stats.health_status,
    }
    echo(
        f"demo finished: {done} operations in {summary['seconds']}s, "
        f"hit rate {stats.hit_rate:.2%}, health {stats.health_status}"
    )
    return summary
