"""The UnifiedConnectionManager: L1 (memory) -> L2 (Redis) -> L3 (database), instrumented.

Reads try each level in turn and fill the faster levels on the way back. Writes go through
all three, the database first, so a write that returned survives any Redis failure.

No stale refill: the database versions every write (see :mod:`unified_cache.l3`); Redis
keeps only the newest version (see :mod:`unified_cache.l2`); L1 refuses an older version,
and while a read is in flight the manager remembers the newest version written or
invalidated per key (``_floor``), so a read that started before a write can never install
what it fetched over it. Other instances' writes reach this L1 through Redis pub/sub.
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
import bisect
import enum
import json
import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry

from .config import CacheConfig
from .errors import DatabaseError, UnifiedCacheError
from .faults import Faults, InjectedFault
from .l1 import MISS, L1Cache, measured_size
from .l2 import RedisLevel
from .l3 import TOMBSTONE, Database, open_database
from .metrics import DURATION_BUCKETS, CacheCollector, collector_for
from .stats import CacheStats, ConnectionMetrics
from .warming import AccessTracker, pick_candidates

log = logging.getLogger(__name__)
_perf = time.perf_counter
_bucket = bisect.bisect_left
_BOUNDS = DURATION_BUCKETS
_PLAIN = (str, int, float, bool, type(None))
MAX_KEY_BYTES = 1024
MAX_TTL = 10 * 365 * 86400  # ten years; Redis rejects far larger expiry times


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


def check_key(key: Any) -> None:
    """Refuse a key no level could store, before any level is touched."""
    if type(key) is not str:
        raise TypeError(f"cache keys must be str, got {type(key).__name__}")
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"cache keys must be 1..{MAX_KEY_BYTES} bytes of UTF-8, got {len(key.encode())}")


def check_ttl(ttl: int) -> int:
    ttl = int(ttl)
    if not 1 <= ttl <= MAX_TTL:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL} seconds, got {ttl}")
    return ttl


class UnifiedConnectionManager:
    def __init__(
        self,
        mode: ManagerMode = ManagerMode.HIGH_AVAILABILITY,
        config: CacheConfig | None = None,
        registry: CollectorRegistry | None = None,
        clock=time.monotonic,
    ) -> None:
        self.mode = mode
        cfg = self.config = config or CacheConfig.from_env(profile=mode.profile)
        self.collector: CacheCollector = collector_for(registry)
        self.counters = c = self.collector.counters()
        self.l1 = L1Cache(cfg.l1_cache_size, clock=clock, max_bytes=cfg.l1_max_bytes)
        self.l1.on_evict = self._count_evictions
        self.l2 = RedisLevel(
            None if cfg.redis_sentinels else cfg.redis_url,
            cfg.redis_replica_url,
            max_connections=cfg.redis_max_connections,
            socket_timeout=cfg.redis_socket_timeout,
            health_interval=cfg.health_check_interval,
            sentinels=cfg.redis_sentinels,
            sentinel_service=cfg.redis_sentinel_service,
            on_error=self._redis_error,
            on_command_error=self._redis_command_error,
            on_invalidate=self._invalidated,
            on_sync_lost=self.l1.clear,
        )
        self.l3: Database | None = None
        self.tracker = AccessTracker(capacity=max(10000, 10 * cfg.l1_cache_size))
        self.faults = Faults()
        self._c = c
        self._inflight = 0
        self._floor: dict[str, int] = {}
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
        self.l3.injected_failure = self.faults.database_fails
        await self.l2.start()
        self.collector.bind(self)
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
        self.collector.retire(self._c)

    async def __aenter__(self) -> UnifiedConnectionManager:
        await self.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- data path ---------------------------------------------------------------------

    async def get_cached(self, key: str) -> Any:
        """The value for ``key``, or None when no level has it."""
        t0 = _perf()
        self.tracker.record(key)
        if self.faults.active:
            await self._inject_faults()
        value = self.l1.get(key)
        if value is not MISS:
            dt = _perf() - t0
            c = self._c
            c.l1_hit += 1
            c.l1_buckets[_bucket(_BOUNDS, dt)] += 1
            c.l1_sum += dt
            return value
        return await self._get_below_l1(key, t0)

    async def _get_below_l1(self, key: str, t0: float) -> Any:
        check_key(key)
        if self.l3 is None:
            raise UnifiedCacheError("call `await manager.initialize()` before using the cache")
        c = self._c
        t1 = _perf()
        c.l1_miss += 1
        c.l1_buckets[_bucket(_BOUNDS, t1 - t0)] += 1
        c.l1_sum += t1 - t0
        self._inflight += 1
        try:
            raw, version, _role = await self.l2.get(key)
            t2 = _perf()
            c.l2_buckets[_bucket(_BOUNDS, t2 - t1)] += 1
            c.l2_sum += t2 - t1
            if raw is not None:
                c.l2_hit += 1
                value = _decode(raw)
                self._install(key, value, version, measured_size(key, raw))
                return value
            c.l2_miss += 1
            try:
                raw, version = await self.l3.get(key)
            except DatabaseError:
                c.l3_error += 1
                raise
            finally:
                t3 = _perf()
                c.l3_buckets[_bucket(_BOUNDS, t3 - t2)] += 1
                c.l3_sum += t3 - t2
            if raw is None:
                c.l3_miss += 1
                return None
            c.l3_hit += 1
            value = _decode(raw)
            if self._install(key, value, version, measured_size(key, raw)):
                await self.l2.put({key: (raw, version)}, self.config.cache_ttl_seconds, publish=False)
            return value
        finally:
            self._done()

    async def _inject_faults(self) -> None:
        faults = self.faults
        if faults.l1_delay_ms:
            await asyncio.sleep(faults.l1_delay_ms / 1000)
        if faults.errors and faults.random.random() < faults.errors:
            self._c.l1_error += 1
            raise InjectedFault(f"injected error (fault switch errors={faults.errors})")

    def _install(self, key: str, value: Any, version: int, size: int, warmed: bool = False) -> bool:
        """Put what a read fetched into L1, unless a newer version was written meanwhile."""
        if version < self._floor.get(key, 0):
            return False
        ttl: float = self.config.cache_ttl_seconds
        if not self.l2.synced:
            ttl = min(ttl, self.config.l1_unsynced_ttl)
        return self.l1.set(key, value, ttl, version, size, warmed)

    def _raise_floor(self, key: str, version: int) -> None:
        if self._inflight and version > self._floor.get(key, 0):
            self._floor[key] = version

    def _done(self) -> None:
        self._inflight -= 1
        if not self._inflight and self._floor:
            self._floor.clear()

    def _invalidated(self, key: str, version: int, raw: bytes | None) -> None:
        """Another instance (or this one) wrote ``key`` at ``version`` (from Redis pub/sub):
        an older L1 entry is replaced by the value sent along, or dropped when none came."""
        self._raise_floor(key, version)
        if self.l1.version(key) >= version or key not in self.l1:
            return
        if raw is None:
            self.l1.invalidate(key, version)
        else:
            self._install(key, _decode(raw), version, measured_size(key, raw))

    async def set_cached(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store ``value`` in the database, then Redis, then L1 (write-through).

        Raises DatabaseError when the database did not store it; Redis failures only mean
        the value is not cached there. Nothing is written when the key, the TTL or the
        value is invalid.
        """
        await self.set_many_cached({key: value}, ttl)

    async def set_many_cached(self, items: dict[str, Any], ttl: int | None = None) -> None:
        """Write-through of many entries: one database transaction, one Redis pipeline."""
        ttl = check_ttl(self.config.cache_ttl_seconds if ttl is None else ttl)
        for key in items:
            check_key(key)
        raws = {key: _encode(value) for key, value in items.items()}
        if self.l3 is None:
            raise UnifiedCacheError("call `await manager.initialize()` before using the cache")
        self._inflight += 1
        try:
            versions = await self.l3.set_many(raws, time.time())
            for key, version in versions.items():
                self._raise_floor(key, version)
            await self.l2.put({k: (raws[k], v) for k, v in versions.items()}, ttl, publish=True)
            l1_ttl = ttl if self.l2.synced else min(ttl, self.config.l1_unsynced_ttl)
            for key, raw in raws.items():
                value = items[key]
                # L1 holds what L2/L3 would return (tuples become lists)
                value = value if isinstance(value, _PLAIN) else _decode(raw)
                self.l1.set(key, value, l1_ttl, versions[key], measured_size(key, raw))
        finally:
            self._done()

    async def delete_cached(self, key: str) -> bool:
        """Remove ``key`` from every level; True when the database held it."""
        return bool(await self.delete_many_cached([key]))

    async def delete_many_cached(self, keys: list[str]) -> int:
        """Remove many keys from every level (one transaction, one Redis pipeline); the
        number of keys the database held."""
        keys = list(keys)
        for key in keys:
            check_key(key)
        if not keys:
            return 0
        self._inflight += 1
        try:
            versions = await self.l3.delete_many(keys, time.time())
            for key in keys:
                self.l1.delete(key)
            for key, version in versions.items():
                self._raise_floor(key, version)
            await self.l2.put({k: (TOMBSTONE, v) for k, v in versions.items()}, self.config.cache_ttl_seconds,
                              publish=True)
            return len(versions)
        finally:
            self._done()

    # -- warming -----------------------------------------------------------------------

    async def run_warming_cycle(self) -> int:
        """One warming cycle now; returns the number of hot keys loaded or refreshed in L1."""
        cfg = self.config
        scores = self.tracker.roll()
        keys = pick_candidates(scores, cfg.warming_threshold, cfg.warming_batch_size)
        loaded = await self._warm(keys)
        self._c.warming_cycles += 1
        return loaded

    async def warm_startup(self) -> int:
        """Startup warming: load the most recently written entries of the database."""
        self._inflight += 1
        try:
            found = await self.l3.recent(self.config.warming_batch_size)
            loaded = sum(
                self._install(key, _decode(raw), version, measured_size(key, raw), warmed=True)
                for key, (raw, version) in found.items()
            )
        finally:
            self._done()
        self._c.warming_operations += loaded
        self._c.warming_cycles += 1
        return loaded

    async def _warm(self, keys: list[str]) -> int:
        if not keys:
            return 0
        self._inflight += 1
        try:
            found = await self.l2.mget(keys)
            rest = [k for k in keys if k not in found]
            from_db = await self.l3.get_many(rest) if rest else {}
            loaded = 0
            for key, (raw, version) in {**found, **from_db}.items():
                loaded += self._install(key, _decode(raw), version, measured_size(key, raw), warmed=True)
            await self.l2.put(from_db, self.config.cache_ttl_seconds, publish=False)
        finally:
            self._done()
        self._c.warming_operations += loaded
        return loaded

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
    def l1_hits(self) -> int:
        return self._c.l1_hit

    @property
    def l1_misses(self) -> int:
        return self._c.l1_miss

    @property
    def l2_hits(self) -> int:
        return self._c.l2_hit

    @property
    def l3_hits(self) -> int:
        return self._c.l3_hit

    @property
    def l3_misses(self) -> int:
        return self._c.l3_miss

    @property
    def warming_cycles(self) -> int:
        return self._c.warming_cycles

    @property
    def warming_operations(self) -> int:
        return self._c.warming_operations

    @property
    def total_requests(self) -> int:
        """Gets made: each passes L1 once (hit, miss, or an injected error)."""
        c = self._c
        return c.l1_hit + c.l1_miss + c.l1_error

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
        c = self._c
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
            # every get's time is its L1 time plus, on a miss, its L2 and L3 times
            avg_response_time=(c.l1_sum + c.l2_sum + c.l3_sum) / total if total else 0.0,
            p95_response_time=_p95_bound(c),
        )

    def get_connection_metrics(self) -> ConnectionMetrics:
        l3 = self.l3
        c = self._c
        return ConnectionMetrics(
            redis_master_connected=self.l2.master_up,
            redis_replica_connected=self.l2.replica_up,
            active_connections=l3.active if l3 else 0,
            pool_utilization=l3.pool_utilization if l3 else 0.0,
            redis_master_errors=c.master_errors,
            redis_replica_errors=c.replica_errors,
            database_errors=c.db_errors,
        )

    def _count_evictions(self, n: int) -> None:
        self._c.l1_evictions += n

    def _redis_error(self, role: str) -> None:
        if role == "master":
            self._c.master_errors += 1
        else:
            self._c.replica_errors += 1

    def _redis_command_error(self, role: str, kind: str) -> None:
        errors = self._c.command_errors
        errors[(role, kind)] = errors.get((role, kind), 0) + 1

    def _db_error(self) -> None:
        self._c.db_errors += 1


def _bucket_quantile(buckets: list[int], q: float) -> float:
    """Upper bound of the ``q`` quantile of a (non-cumulative) bucket histogram."""
    total = sum(buckets)
    running = 0
    for bound, n in zip((*_BOUNDS, float("inf")), buckets, strict=True):
        running += n
        if running >= q * total:
            return bound
    return 0.0


def _p95_bound(c) -> float:
    """Upper bound of the 95th percentile get time, from the histograms: when more than 5%
    of gets missed L1, the percentile lies among the misses (timed by L2, and L3 when the
    key was not in Redis); otherwise among the L1 hits."""
    total = c.l1_hit + c.l1_miss
    if not total:
        return 0.0
    if c.l1_miss <= 0.05 * total:
        return _bucket_quantile(c.l1_buckets, 0.95 * total / max(1, c.l1_hit + c.l1_miss))
    deeper = [a + b for a, b in zip(c.l2_buckets, c.l3_buckets, strict=True)]
    return _bucket_quantile(deeper, (0.95 * total - c.l1_hit) / c.l1_miss)


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
