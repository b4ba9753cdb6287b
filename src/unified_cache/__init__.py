"""unified_cache: a three-level cache (memory, Redis, database) with Prometheus metrics.

The reference library of monspec's specs: it exports exactly the series of the metric
catalog, and the Cache Performance Monitoring Guide's scripts run against it unchanged
except for their import line::

    from unified_cache import get_unified_manager, ManagerMode
"""
from .config import PROFILES, CacheConfig
from .errors import ConfigurationError, DatabaseError, UnifiedCacheError
from .manager import ManagerMode, UnifiedConnectionManager, get_unified_manager
from .stats import CacheStats, ConnectionMetrics

__all__ = [
    "PROFILES",
    "CacheConfig",
    "CacheStats",
    "ConfigurationError",
    "ConnectionMetrics",
    "DatabaseError",
    "ManagerMode",
    "UnifiedCacheError",
    "UnifiedConnectionManager",
    "get_unified_manager",
]
