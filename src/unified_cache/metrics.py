"""Prometheus metrics: exactly the series of the metric catalog (``specs/catalog.yaml``).

The hot path only bumps plain integers (:class:`Counters`, one per manager); one custom
collector per registry turns them into the catalog's families when Prometheus scrapes.
That keeps an L1 hit free of prometheus_client's locks and label lookups (see
``make bench``). Several managers in one process (the guide's scripts create one per call)
share a registry: counters are the sum over its managers (a closed manager's counts are
kept), gauges read the most recently bound manager.

The library ships its own constants (it never reads specs/); a test holds them and the
live exposition equal to the catalog.
"""
from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Iterator

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from .l2 import COMMAND_ERROR_KINDS

CACHE_LEVELS = ("l1", "l2", "l3")
STATUSES = ("hit", "miss", "error")
REDIS_ROLES = ("master", "replica")
DURATION_BUCKETS = (0.00001, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)
KEY_FREQUENCY_TOP_N = 20
KEY_LABEL_MODES = ("hashed", "plain", "off")
_LE = [repr(float(b)) for b in DURATION_BUCKETS] + ["+Inf"]


class Counters:
    """The plain numbers one manager bumps. ``<level>_buckets[i]`` counts durations in bucket
    i (not cumulative; the last slot is +Inf), ``<level>_sum`` their total seconds."""

    __slots__ = (
        "l1_hit", "l1_miss", "l1_error", "l2_hit", "l2_miss", "l2_error", "l3_hit", "l3_miss", "l3_error",
        "l1_buckets", "l2_buckets", "l3_buckets", "l1_sum", "l2_sum", "l3_sum",
        "l1_evictions", "master_errors", "replica_errors", "command_errors", "db_errors",
        "warming_operations", "warming_cycles",
    )  # fmt: skip

    def __init__(self) -> None:
        self.l1_hit = self.l1_miss = self.l1_error = 0
        self.l2_hit = self.l2_miss = self.l2_error = 0
        self.l3_hit = self.l3_miss = self.l3_error = 0
        n = len(DURATION_BUCKETS) + 1
        self.l1_buckets, self.l2_buckets, self.l3_buckets = [0] * n, [0] * n, [0] * n
        self.l1_sum = self.l2_sum = self.l3_sum = 0.0
        self.l1_evictions = self.master_errors = self.replica_errors = self.db_errors = 0
        self.warming_operations = self.warming_cycles = 0
        self.command_errors: dict[tuple[str, str], int] = {}

    def add(self, other: Counters) -> None:
        for name in self.__slots__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, list):
                setattr(self, name, [a + b for a, b in zip(mine, theirs, strict=True)])
            elif isinstance(mine, dict):
                for k, v in theirs.copy().items():  # copy: the loop thread may add a kind
                    mine[k] = mine.get(k, 0) + v
            else:
                setattr(self, name, mine + theirs)


def key_label(key: str, mode: str) -> str:
    """The ``key`` label value: ``sha256:<16 hex>`` of the key unless plain keys were opted in."""
    if mode == "plain":
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]


class CacheCollector(Collector):
    """Every catalog family of the unified cache, computed at scrape time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: list[Counters] = []
        self._retired = Counters()
        self._manager = lambda: None  # weak reference to the most recently bound manager

    def counters(self) -> Counters:
        counters = Counters()
        with self._lock:
            self._live.append(counters)
        return counters

    def retire(self, counters: Counters) -> None:
        with self._lock:
            if counters in self._live:
                self._live.remove(counters)
                self._retired.add(counters)

    def bind(self, manager) -> None:
        self._manager = weakref.ref(manager)

    def _total(self) -> Counters:
        total = Counters()
        with self._lock:
            total.add(self._retired)
            for counters in self._live:
                total.add(counters)
        return total

    def describe(self):
        return []  # families depend on the bound manager (e.g. no replica, no replica gauge)

    def collect(self) -> Iterator:
        c = self._total()
        m = self._manager()
        ops = CounterMetricFamily(
            "unified_cache_operations_total",
            "Cache lookups by level and outcome; every get passes L1, misses go on to L2, then L3; "
            "a get that raised is counted once as error at the level where it failed.",
            labels=["cache_level", "status"],
        )
        for level in CACHE_LEVELS:
            for status in STATUSES:
                ops.add_metric([level, status], getattr(c, f"{level}_{status}"))
        yield ops
        duration = HistogramMetricFamily(
            "unified_cache_operation_duration_seconds", "Time of one cache lookup at each level.", labels=["cache_level"]
        )
        for level in CACHE_LEVELS:
            running, buckets = 0, []
            for le, n in zip(_LE, getattr(c, f"{level}_buckets"), strict=True):
                running += n
                buckets.append((le, running))
            duration.add_metric([level], buckets, getattr(c, f"{level}_sum"))
        yield duration
        yield CounterMetricFamily(
            "unified_cache_l1_evictions_total",
            "L1 entries evicted to make room (LRU or byte bound), not counting TTL expiry.",
            value=c.l1_evictions,
        )
        errors = CounterMetricFamily(
            "unified_redis_connection_errors_total",
            "Failed Redis connections (refused, reset, timed out) in calls and health checks, by role.",
            labels=["role"],
        )
        errors.add_metric(["master"], c.master_errors)
        errors.add_metric(["replica"], c.replica_errors)
        yield errors
        command = CounterMetricFamily(
            "unified_redis_command_errors_total",
            "Redis commands refused by a reachable server (OOM, READONLY, ...), by role and kind.",
            labels=["role", "kind"],
        )
        roles = ("master", "replica") if m is not None and m.l2.replica is not None else ("master",)
        for role in roles:
            for kind in COMMAND_ERROR_KINDS:
                command.add_metric([role, kind], c.command_errors.get((role, kind), 0))
        yield command
        yield CounterMetricFamily(
            "unified_database_connection_errors_total",
            "Failed database (L3) calls, including a SQLite writer that waited out its busy timeout.",
            value=c.db_errors,
        )
        yield CounterMetricFamily(
            "unified_cache_warming_operations_total", "Keys loaded into L1 by cache warming.", value=c.warming_operations
        )
        yield CounterMetricFamily(
            "unified_cache_warming_cycles_total", "Completed cache warming cycles.", value=c.warming_cycles
        )
        yield from self._gauges(m)

    def _gauges(self, m) -> Iterator:
        def gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, text, value=float(value))

        l1 = m.l1 if m is not None else None
        yield gauge("unified_cache_l1_size", "Entries held in the L1 in-memory cache.", len(l1) if l1 else 0)
        yield gauge("unified_cache_l1_max_size", "Capacity of the L1 in-memory cache (UCM_L1_CACHE_SIZE).",
                    l1.max_size if l1 else 0)
        yield gauge("unified_cache_l1_utilization", "Share of L1 slots in use (size / max size).",
                    l1.utilization if l1 else 0)
        yield gauge("unified_cache_l1_memory_usage_bytes",
                    "Measured size of L1 entries: UTF-8 keys plus JSON-encoded values (bounded by UCM_L1_MAX_BYTES).",
                    l1.memory_bytes if l1 else 0)
        yield gauge("unified_cache_warming_hit_rate",
                    "Share of warmed keys that were read before being evicted or expiring.",
                    l1.warming_hit_rate if l1 else 0)
        l2 = m.l2 if m is not None else None
        yield gauge("unified_redis_master_connected", "1 when the Redis master answers the health check, else 0.",
                    bool(l2 and l2.master_up))
        if l2 is not None and l2.replica is not None:  # no replica configured: no series at all
            yield gauge("unified_redis_replica_connected",
                        "1 when the configured Redis replica answers the health check, else 0 (absent when none is configured).",
                        l2.replica_up)
        l3 = m.l3 if m is not None else None
        yield gauge("unified_database_connections_active", "Database connections checked out of the pool.",
                    l3.active if l3 else 0)
        yield gauge("unified_database_pool_utilization",
                    "Share of the database pool in use (active / DATABASE_MAX_CONNECTIONS).",
                    l3.pool_utilization if l3 else 0)
        freq = GaugeMetricFamily(
            "unified_cache_key_access_frequency",
            "Reads of each of the most-accessed keys (top 20 only, so cardinality stays fixed); "
            "the key label is a sha256 prefix unless UCM_KEY_FREQUENCY_LABELS=plain.",
            labels=["key"],
        )
        if m is not None and m.config.key_frequency_labels != "off":
            mode = m.config.key_frequency_labels
            for key, count in m.tracker.top(m.config.key_frequency_top_n):
                freq.add_metric([key_label(key, mode)], count)
        yield freq


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, CacheCollector] = weakref.WeakKeyDictionary()


def collector_for(registry: CollectorRegistry | None = None) -> CacheCollector:
    """The cache collector on ``registry`` (default: the global one), registered on first use.

    On a custom registry the standard process and Python collectors are registered too,
    so the exposition matches the catalog exactly (the global registry has them already).
    """
    registry = REGISTRY if registry is None else registry
    # The catalog has no ``*_created`` series; prometheus_client's switch is process-wide.
    disable_created_metrics()
    with _lock:
        existing = _by_registry.get(registry)
        if existing is None:
            if registry is not REGISTRY:
                ProcessCollector(registry=registry)
                PlatformCollector(registry=registry)
                GCCollector(registry=registry)
            existing = _by_registry[registry] = CacheCollector()
            registry.register(existing)
        return existing
