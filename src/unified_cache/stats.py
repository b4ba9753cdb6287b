"""The value objects returned by ``get_cache_stats()`` and ``get_connection_metrics()``.

Field names are the ones the guide's scripts read.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CacheStats:
    hit_rate: float  # (l1_hits + l2_hits) / total_requests: gets answered without the database
    l1_hits: int
    l2_hits: int
    l3_hits: int
    l3_misses: int
    total_requests: int
    l1_hit_rate: float  # l1_hits / total_requests
    l2_hit_rate: float  # l2_hits / L1 misses
    l1_utilization: float
    l1_size: int
    l1_max_size: int
    l1_memory_bytes: int
    l1_evictions: int
    health_status: str  # 'healthy' | 'degraded' | 'emergency'
    warming_enabled: bool
    warming_cycles: int
    warming_operations: int
    warming_hit_rate: float
    avg_response_time: float  # seconds, over the last 10 000 gets
    p95_response_time: float  # seconds, over the last 10 000 gets

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ConnectionMetrics:
    redis_master_connected: bool
    redis_replica_connected: bool
    active_connections: int  # database connections checked out of the pool
    pool_utilization: float  # active_connections / DATABASE_MAX_CONNECTIONS
    redis_master_errors: int
    redis_replica_errors: int
    database_errors: int

    def as_dict(self) -> dict:
        return asdict(self)
