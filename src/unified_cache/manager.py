"""The UnifiedConnectionManager: L1 (memory) -> L2 (Redis) -> L3 (database), instrumented.

Reads try each level in turn and fill the faster levels on the way back. Writes go through
all three, the database first, so a write that returned survives any Redis failure.
Redis failures are absorbed (see :mod:`unified_cache.l2`); database failures raise
:class:`~unified_cache.errors.DatabaseError`, since the source of truth cannot be faked.

Example::

    manager = get_unified_manager(ManagerMode.HIGH_AVAILABILITY)
    await manager.initialize()
    await manager.set_cached("user:1", {"name": "Ada"}, ttl=3600)
    assert await manager.get_cached("user:1") == {"name": "Ada"}
    await manager.close()
"""
from __future__ import annotations

import asyncio
import enum
import json
import logging
import statistics
import time
from collections import deque
from typing import Any

from prometheus_client import CollectorRegistry

from .config import CacheConfig
from .errors import DatabaseError, UnifiedCacheError
from .l1 import MISS, L1Cache
from .l2 import RedisLevel
from .l3 import Database, open_database
from .metrics import CacheMetrics, metrics_for
from .stats import CacheStats, ConnectionMetrics
from .warming import AccessTracker, pick_candidates

log = logging.getLogger(__name__)
_perf = time.perf_counter
_PLAIN = (str, int, float, bool, type(None))


class ManagerMode(enum.Enum):
    """How the manager is tuned. Tuning modes select the guide's profile (env still wins)."""

    DEFAULT = "default"
    HIGH_AVAILABILITY = "high_availability"
    HIGH_TRAFFIC = "high_traffic"
    MEMORY_CONSTRAINED = "memory_constrained"
    ULTRA_LOW_LATENCY = "ultra_low_latency"

    @property
    def profile(self) -> str | None:
        return None if self in (ManagerMode.DEFAULT, ManagerMode.HIGH_AVAILABILITY) else self.value


def _encode(value: Any) -> bytes:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cache values must be JSON-serialisable: {exc}") from None


def _decode(raw: bytes) -> Any:
    return json.loads(raw)


class UnifiedConnectionManager:
    def __init__(
        self,
        mode: ManagerMode = ManagerMode.HIGH_AVAILABILITY,
        config: CacheConfig | None = None,
        registry: CollectorRegistry | None = None,
        clock=time.monotonic,
    ) -> None:
        self.mode = mode
        self.config = config or CacheConfig.from_env(profile=mode.profile)
        self.metrics: CacheMetrics = metrics_for(registry)
        self.l1 = L1Cache(self.config.l1_cache_size, clock=clock)
        self.l1.on_evict = self.metrics.l1_evictions.inc
        self._master_err = self._replica_err = self._db_err = 0
        self.l2 = RedisLevel(
            self.config.redis_url,
            self.config.redis_replica_url,
            max_connections=self.config.redis_max_connections,
            socket_timeout=self.config.redis_socket_timeout,
            health_interval=self.config.health_check_interval,
            on_error=self._redis_error,
        )
        self.l3: Database | None = None
        self.tracker = AccessTracker(capacity=max(10000, 10 * self.config.l1_cache_size))
        self.l1_hits = self.l1_misses = self.l2_hits = self.l3_hits = self.l3_misses = 0
        self.warming_cycles = self.warming_operations = 0
        self._times: deque[float] = deque(maxlen=10000)
        self._fetching = 0
        self._gen: dict[str, int] = {}
        self._key_locks: dict[str, list] = {}
        self._warm_task: asyncio.Task | None = None
        self.initialized = False
        self.closed = False

    # -- lifecycle ---------------------------------------------------------------------

    async def initialize(self) -> None:
        if self.initialized:
            return
        cfg = self.config
        self.l3 = open_database(cfg.database_url, cfg.data_dir, cfg.database_max_connections, self._db_error)
        await self.l3.start()
        await self.l2.start()
        self.metrics.bind(self)
        self.initialized = True
        if cfg.enable_warming and cfg.enable_startup_warming:
            await self.warm_startup()
        if cfg.enable_warming:
            self._warm_task = asyncio.create_task(self._warming_loop(), name="ucm-warming")
        log.info("unified cache ready (mode=%s, health=%s)", self.mode.value, self.health_status)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._warm_task is not None:
            self._warm_task.cancel()
            try:
                await self._warm_task
            except asyncio.CancelledError:
                pass
        await self.l2.close()
        if self.l3 is not None:
            await self.l3.close()

    async def __aenter__(self) -> "UnifiedConnectionManager":
        await self.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- data path ---------------------------------------------------------------------

    async def get_cached(self, key: str) -> Any:
        """The value for ``key``, or None when no level has it."""
        m = self.metrics
        t0 = _perf()
        self.tracker.record(key)
        value = self.l1.get(key)
        t1 = _perf()
        m.l1_duration.observe(t1 - t0)
        if value is not MISS:
            m.l1_hit.inc()
            self.l1_hits += 1
            self._times.append(t1 - t0)
            return value
        if self.l3 is None:
            raise UnifiedCacheError("call `await manager.initialize()` before using the cache")
        m.l1_miss.inc()
        self.l1_misses += 1
        self._fetching += 1
        gen = self._gen.get(key)
        try:
            raw, _role = await self.l2.get(key)
            t2 = _perf()
            m.l2_duration.observe(t2 - t1)
            if raw is not None:
                m.l2_hit.inc()
                self.l2_hits += 1
                value = _decode(raw)
                if self._gen.get(key) == gen:
                    self.l1.set(key, value, self.config.cache_ttl_seconds)
                self._times.append(t2 - t0)
                return value
            m.l2_miss.inc()
            try:
                raw = await self.l3.get(key)
            finally:
                t3 = _perf()
                m.l3_duration.observe(t3 - t2)
            self._times.append(t3 - t0)
            if raw is None:
                m.l3_miss.inc()
                self.l3_misses += 1
                return None
            m.l3_hit.inc()
            self.l3_hits += 1
            value = _decode(raw)
            if self._gen.get(key) == gen:  # no write raced this read: refill the caches
                self.l1.set(key, value, self.config.cache_ttl_seconds)
                await self.l2.set(key, raw, self.config.cache_ttl_seconds)
            return value
        finally:
            self._fetching -= 1
            if not self._fetching and self._gen:
                self._gen.clear()

    async def set_cached(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store ``value`` in the database, then Redis, then L1 (write-through).

        Raises DatabaseError when the database did not store it; Redis failures only mean
        the value is not cached there.
        """
        ttl = self.config.cache_ttl_seconds if ttl is None else int(ttl)
        if ttl < 1:
            raise ValueError(f"ttl must be >= 1 second, got {ttl}")
        if self.l3 is None:
            raise UnifiedCacheError("call `await manager.initialize()` before using the cache")
        raw = _encode(value)
        if not isinstance(value, _PLAIN):
            value = _decode(raw)  # L1 holds what L2/L3 would return (tuples become lists)
        async with self._key_lock(key):
            self._bump(key)
            await self.l3.set(key, raw, time.time())
            await self.l2.set(key, raw, ttl)
            self.l1.set(key, value, ttl)

    async def set_many_cached(self, items: dict[str, Any], ttl: int | None = None) -> None:
        """Write-through of many entries: one database transaction, one Redis pipeline."""
        ttl = self.config.cache_ttl_seconds if ttl is None else int(ttl)
        if ttl < 1:
            raise ValueError(f"ttl must be >= 1 second, got {ttl}")
        raws = {key: _encode(value) for key, value in items.items()}
        for key in raws:
            self._bump(key)
        await self.l3.set_many(raws, time.time())
        await self.l2.set_many(raws, ttl)
        for key, raw in raws.items():
            value = items[key]
            self.l1.set(key, value if isinstance(value, _PLAIN) else _decode(raw), ttl)

    async def delete_cached(self, key: str) -> bool:
        """Remove ``key`` from every level; True when the database held it."""
        async with self._key_lock(key):
            self._bump(key)
            self.l1.delete(key)
            found = await self.l3.delete(key)
            await self.l2.delete(key)
            return found

    async def delete_many_cached(self, keys: list[str]) -> None:
        """Remove many keys from every level (one transaction, batched Redis deletes)."""
        keys = list(keys)
        for key in keys:
            self._bump(key)
            self.l1.delete(key)
        if keys:
            await self.l3.delete_many(keys)
            await self.l2.delete_many(keys)

    def _bump(self, key: str) -> None:
        if self._fetching:
            self._gen[key] = self._gen.get(key, 0) + 1

    def _key_lock(self, key: str) -> "_KeyLock":
        return _KeyLock(self._key_locks, key)

    # -- warming -----------------------------------------------------------------------

    async def run_warming_cycle(self) -> int:
        """One warming cycle now; returns the number of hot keys loaded or refreshed in L1."""
        cfg = self.config
        scores = self.tracker.roll()
        keys = pick_candidates(scores, cfg.warming_threshold, cfg.warming_batch_size)
        loaded = await self._warm(keys)
        self.warming_cycles += 1
        self.metrics.warming_cycles.inc()
        return loaded

    async def warm_startup(self) -> int:
        """Startup warming: load the most recently written entries of the database."""
        found = await self.l3.recent(self.config.warming_batch_size)
        for key, raw in found.items():
            self.l1.set(key, _decode(raw), self.config.cache_ttl_seconds, warmed=True)
        self._count_warmed(len(found))
        self.warming_cycles += 1
        self.metrics.warming_cycles.inc()
        return len(found)

    async def _warm(self, keys: list[str]) -> int:
        if not keys:
            return 0
        self._fetching += 1
        gens = {k: self._gen.get(k) for k in keys}
        try:
            found = await self.l2.mget(keys)
            rest = [k for k in keys if k not in found]
            from_db = await self.l3.get_many(rest) if rest else {}
            loaded = 0
            ttl = self.config.cache_ttl_seconds
            for key, raw in {**found, **from_db}.items():
                if self._gen.get(key) != gens[key]:
                    continue  # written while we fetched: the write's value wins
                self.l1.set(key, _decode(raw), ttl, warmed=True)
                loaded += 1
            for key, raw in from_db.items():
                if self._gen.get(key) == gens[key]:
                    await self.l2.set(key, raw, ttl)
        finally:
            self._fetching -= 1
            if not self._fetching and self._gen:
                self._gen.clear()
        self._count_warmed(loaded)
        return loaded

    def _count_warmed(self, n: int) -> None:
        if n:
            self.warming_operations += n
            self.metrics.warming_operations.inc(n)

    async def _warming_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.warming_interval)
            try:
                await self.run_warming_cycle()
            except asyncio.CancelledError:
                raise
            except DatabaseError as exc:
                log.warning("warming cycle skipped: %s", exc)
            except Exception:
                log.exception("warming cycle failed")

    # -- reporting ---------------------------------------------------------------------

    @property
    def total_requests(self) -> int:
        return self.l1_hits + self.l1_misses

    @property
    def health_status(self) -> str:
        """'healthy': the master (and the replica, when configured) answers; 'degraded': only
        one of them answers (reads still cached in Redis); 'emergency': no Redis answers and
        the manager runs on L1 + L3."""
        l2 = self.l2
        if l2.master_up and (l2.replica is None or l2.replica_up):
            return "healthy"
        if l2.master_up or l2.replica_up:
            return "degraded"
        return "emergency"

    async def get_cache_stats(self) -> CacheStats:
        total = self.total_requests
        times = list(self._times)
        return CacheStats(
            hit_rate=(self.l1_hits + self.l2_hits) / total if total else 0.0,
            l1_hits=self.l1_hits,
            l2_hits=self.l2_hits,
            l3_hits=self.l3_hits,
            l3_misses=self.l3_misses,
            total_requests=total,
            l1_hit_rate=self.l1_hits / total if total else 0.0,
            l2_hit_rate=self.l2_hits / self.l1_misses if self.l1_misses else 0.0,
            l1_utilization=self.l1.utilization,
            l1_size=len(self.l1),
            l1_max_size=self.l1.max_size,
            l1_memory_bytes=self.l1.memory_bytes,
            l1_evictions=self.l1.evictions,
            health_status=self.health_status,
            warming_enabled=self.config.enable_warming,
            warming_cycles=self.warming_cycles,
            warming_operations=self.warming_operations,
            warming_hit_rate=self.l1.warming_hit_rate,
            avg_response_time=statistics.fmean(times) if times else 0.0,
            p95_response_time=_percentile(times, 0.95),
        )

    def get_connection_metrics(self) -> ConnectionMetrics:
        l3 = self.l3
        return ConnectionMetrics(
            redis_master_connected=self.l2.master_up,
            redis_replica_connected=self.l2.replica_up,
            active_connections=l3.active if l3 else 0,
            pool_utilization=l3.pool_utilization if l3 else 0.0,
            redis_master_errors=self._master_err,
            redis_replica_errors=self._replica_err,
            database_errors=self._db_err,
        )

    def _redis_error(self, role: str) -> None:
        if role == "master":
            self._master_err += 1
            self.metrics.master_errors.inc()
        else:
            self._replica_err += 1
            self.metrics.replica_errors.inc()

    def _db_error(self) -> None:
        self._db_err += 1
        self.metrics.db_errors.inc()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _KeyLock:
    """Per-key asyncio lock, dropped when nobody holds or waits for it."""

    __slots__ = ("table", "key", "entry")

    def __init__(self, table: dict[str, list], key: str) -> None:
        self.table, self.key = table, key

    async def __aenter__(self) -> None:
        entry = self.table.get(self.key)
        if entry is None:
            entry = self.table[self.key] = [asyncio.Lock(), 0]
        entry[1] += 1
        self.entry = entry
        await entry[0].acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.entry[0].release()
        self.entry[1] -= 1
        if not self.entry[1]:
            self.table.pop(self.key, None)


_managers: dict[ManagerMode, UnifiedConnectionManager] = {}


def get_unified_manager(
    mode: ManagerMode = ManagerMode.HIGH_AVAILABILITY,
    *,
    config: CacheConfig | None = None,
    registry: CollectorRegistry | None = None,
) -> UnifiedConnectionManager:
    """The process-wide manager for ``mode`` (a new one after close, or with explicit settings)."""
    if not isinstance(mode, ManagerMode):
        raise ValueError(f"mode must be a ManagerMode, got {mode!r}")
    if config is not None or registry is not None:
        return UnifiedConnectionManager(mode, config=config, registry=registry)
    manager = _managers.get(mode)
    if manager is None or manager.closed:
        manager = _managers[mode] = UnifiedConnectionManager(mode)
    return manager
