"""Prometheus metrics: exactly the series of the metric catalog (``specs/catalog.yaml``).

The library ships its own constants (it never reads specs/); a test holds them and the
live exposition equal to the catalog. Metric objects are created once per registry, so
several managers in one process (the guide's scripts create one per call) share them;
gauges read the most recently bound manager at scrape time.
"""
from __future__ import annotations

import threading
import weakref
from typing import Callable, Iterable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    GCCollector,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CACHE_LEVELS = ("l1", "l2", "l3")
STATUSES = ("hit", "miss")
REDIS_ROLES = ("master", "replica")
DURATION_BUCKETS = (0.00001, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)
KEY_FREQUENCY_TOP_N = 20


class _KeyFrequencyCollector(Collector):
    """``unified_cache_key_access_frequency`` for the top-N keys only, computed at scrape.

    Series of keys that fall out of the top N disappear, so cardinality stays fixed.
    """

    def __init__(self) -> None:
        self.source: Callable[[], Iterable[tuple[str, int]]] = lambda: ()

    def describe(self):
        return [GaugeMetricFamily("unified_cache_key_access_frequency", "", labels=["key"])]

    def collect(self):
        family = GaugeMetricFamily(
            "unified_cache_key_access_frequency",
            "Reads of each of the most-accessed keys (top 20 only, so cardinality stays fixed).",
            labels=["key"],
        )
        for key, count in self.source():
            family.add_metric([key], count)
        yield family


class CacheMetrics:
    """All catalog metrics registered on one registry, with pre-bound children for speed."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.operations = Counter(
            "unified_cache_operations_total",
            "Cache lookups by level and outcome; every get passes L1, misses go on to L2, then L3.",
            ["cache_level", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "unified_cache_operation_duration_seconds",
            "Time of one cache lookup at each level.",
            ["cache_level"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.l1_size = Gauge("unified_cache_l1_size", "Entries held in the L1 in-memory cache.", registry=r)
        self.l1_max_size = Gauge(
            "unified_cache_l1_max_size", "Capacity of the L1 in-memory cache (UCM_L1_CACHE_SIZE).", registry=r
        )
        self.l1_utilization = Gauge(
            "unified_cache_l1_utilization", "Share of L1 slots in use (size / max size).", registry=r
        )
        self.l1_memory = Gauge(
            "unified_cache_l1_memory_usage_bytes", "Approximate memory held by L1 keys and values.", registry=r
        )
        self.l1_evictions = Counter(
            "unified_cache_l1_evictions_total",
            "L1 entries evicted to make room (LRU), not counting TTL expiry.",
            registry=r,
        )
        self.master_connected = Gauge(
            "unified_redis_master_connected", "1 when the Redis master answers the health check, else 0.", registry=r
        )
        self.replica_connected = Gauge(
            "unified_redis_replica_connected",
            "1 when the Redis replica answers the health check, else 0 (0 when none is configured).",
            registry=r,
        )
        self.redis_errors = Counter(
            "unified_redis_connection_errors_total", "Failed Redis calls and health checks, by role.", ["role"], registry=r
        )
        self.db_errors = Counter(
            "unified_database_connection_errors_total", "Failed database (L3) calls.", registry=r
        )
        self.db_active = Gauge(
            "unified_database_connections_active", "Database connections checked out of the pool.", registry=r
        )
        self.db_pool_utilization = Gauge(
            "unified_database_pool_utilization",
            "Share of the database pool in use (active / DATABASE_MAX_CONNECTIONS).",
            registry=r,
        )
        self.warming_operations = Counter(
            "unified_cache_warming_operations_total", "Keys loaded into L1 by cache warming.", registry=r
        )
        self.warming_cycles = Counter(
            "unified_cache_warming_cycles_total", "Completed cache warming cycles.", registry=r
        )
        self.warming_hit_rate = Gauge(
            "unified_cache_warming_hit_rate",
            "Share of warmed keys that were read before being evicted or expiring.",
            registry=r,
        )
        self.key_frequency = _KeyFrequencyCollector()
        r.register(self.key_frequency)

        # Every labelled series exists from the start, so rate() works before the first event.
        for level in CACHE_LEVELS:
            self.duration.labels(level)
            for status in STATUSES:
                self.operations.labels(level, status)
        for role in REDIS_ROLES:
            self.redis_errors.labels(role)

        self.l1_hit = self.operations.labels("l1", "hit")
        self.l1_miss = self.operations.labels("l1", "miss")
        self.l2_hit = self.operations.labels("l2", "hit")
        self.l2_miss = self.operations.labels("l2", "miss")
        self.l3_hit = self.operations.labels("l3", "hit")
        self.l3_miss = self.operations.labels("l3", "miss")
        self.l1_duration = self.duration.labels("l1")
        self.l2_duration = self.duration.labels("l2")
        self.l3_duration = self.duration.labels("l3")
        self.master_errors = self.redis_errors.labels("master")
        self.replica_errors = self.redis_errors.labels("replica")

    def bind(self, manager) -> None:
        """Point the scrape-time gauges at ``manager`` (the latest bound one wins)."""
        ref = weakref.ref(manager)

        def read(fn: Callable, default: float = 0.0) -> Callable[[], float]:
            def value() -> float:
                m = ref()
                return float(fn(m)) if m is not None else default

            return value

        self.l1_size.set_function(read(lambda m: len(m.l1)))
        self.l1_max_size.set_function(read(lambda m: m.l1.max_size))
        self.l1_utilization.set_function(read(lambda m: m.l1.utilization))
        self.l1_memory.set_function(read(lambda m: m.l1.memory_bytes))
        self.master_connected.set_function(read(lambda m: m.l2.master_up))
        self.replica_connected.set_function(read(lambda m: m.l2.replica_up))
        self.db_active.set_function(read(lambda m: m.l3.active if m.l3 else 0))
        self.db_pool_utilization.set_function(read(lambda m: m.l3.pool_utilization if m.l3 else 0))
        self.warming_hit_rate.set_function(read(lambda m: m.l1.warming_hit_rate))

        def top() -> list[tuple[str, int]]:
            m = ref()
            return m.tracker.top(m.config.key_frequency_top_n) if m is not None else []

        self.key_frequency.source = top


_lock = threading.Lock()
_by_registry: "weakref.WeakKeyDictionary[CollectorRegistry, CacheMetrics]" = weakref.WeakKeyDictionary()


def metrics_for(registry: CollectorRegistry | None = None) -> CacheMetrics:
    """The catalog metrics on ``registry`` (default: the global one), created on first use.

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
            existing = _by_registry[registry] = CacheMetrics(registry)
        return existing
