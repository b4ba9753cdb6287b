"""Configuration from the environment, with the guide's named tuning profiles.

Precedence (lowest to highest): built-in defaults, a named profile (``UCM_PROFILE`` or the
``profile=`` argument), explicit environment variables, explicit keyword overrides.
The profile values are the guide's "Performance Mode Optimization" settings. They live here
only: they configure the library, and no monitoring artifact reads them.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The guide's three tuning modes, keyed by environment variable name.
PROFILES: dict[str, dict[str, Any]] = {
    "high_traffic": {
        "UCM_L1_CACHE_SIZE": 3000,
        "UCM_CACHE_TTL_SECONDS": 900,
        "UCM_ENABLE_WARMING": True,
        "UCM_WARMING_INTERVAL": 60,
        "UCM_WARMING_THRESHOLD": 0.5,
        "UCM_WARMING_BATCH_SIZE": 100,
        "REDIS_MAX_CONNECTIONS": 200,
        "DATABASE_MAX_CONNECTIONS": 100,
    },
    "memory_constrained": {
        "UCM_L1_CACHE_SIZE": 1000,
        "UCM_CACHE_TTL_SECONDS": 3600,
        "UCM_ENABLE_WARMING": True,
        "UCM_WARMING_INTERVAL": 600,
        "UCM_WARMING_THRESHOLD": 2.0,
        "UCM_WARMING_BATCH_SIZE": 25,
        "REDIS_MAX_CONNECTIONS": 50,
        "DATABASE_MAX_CONNECTIONS": 25,
    },
    "ultra_low_latency": {
        "UCM_L1_CACHE_SIZE": 5000,
        "UCM_CACHE_TTL_SECONDS": 1800,
        "UCM_ENABLE_WARMING": True,
        "UCM_WARMING_INTERVAL": 30,
        "UCM_WARMING_THRESHOLD": 0.1,
        "UCM_WARMING_BATCH_SIZE": 200,
        "UCM_ENABLE_STARTUP_WARMING": True,
    },
}

PROFILE_DESCRIPTIONS: dict[str, str] = {
    "high_traffic": "Large L1, short TTL for freshness, aggressive warming every minute, big pools.",
    "memory_constrained": "Small L1, long TTL to reduce churn, conservative warming, small pools.",
    "ultra_low_latency": "Maximum L1, warm nearly everything every 30 s, pre-warm on startup.",
}


def default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "unified_cache")


@dataclass(frozen=True)
class CacheConfig:
    """Every setting of the manager; field metadata names its environment variable."""

    redis_url: str | None = field(default="redis://127.0.0.1:6379/0", metadata={"env": "REDIS_URL"})
    redis_replica_url: str | None = field(default=None, metadata={"env": "REDIS_REPLICA_URL"})
    # "host:port,host:port": discover the master through Sentinel (REDIS_URL is then unused).
    redis_sentinels: str | None = field(default=None, metadata={"env": "REDIS_SENTINELS"})
    redis_sentinel_service: str = field(default="mymaster", metadata={"env": "REDIS_SENTINEL_SERVICE"})
    database_url: str | None = field(default=None, metadata={"env": "DATABASE_URL"})
    data_dir: str = field(default_factory=default_data_dir, metadata={"env": "UCM_DATA_DIR"})
    l1_cache_size: int = field(default=2000, metadata={"env": "UCM_L1_CACHE_SIZE"})
    # Bound on the sum of L1 entries' measured sizes (UTF-8 key + JSON value), see l1.py.
    l1_max_bytes: int = field(default=64 * 1024 * 1024, metadata={"env": "UCM_L1_MAX_BYTES"})
    # Longest an L1 entry is served while the invalidation channel is down (other instances'
    # writes cannot reach this L1 then): the staleness bound across instances during a Redis
    # outage, traded against the L1 hit rate the guide expects to keep in emergency mode.
    l1_unsynced_ttl: float = field(default=30.0, metadata={"env": "UCM_L1_UNSYNCED_TTL"})
    cache_ttl_seconds: int = field(default=3600, metadata={"env": "UCM_CACHE_TTL_SECONDS"})
    enable_warming: bool = field(default=True, metadata={"env": "UCM_ENABLE_WARMING"})
    warming_interval: float = field(default=300.0, metadata={"env": "UCM_WARMING_INTERVAL"})
    warming_threshold: float = field(default=1.0, metadata={"env": "UCM_WARMING_THRESHOLD"})
    warming_batch_size: int = field(default=50, metadata={"env": "UCM_WARMING_BATCH_SIZE"})
    enable_startup_warming: bool = field(default=False, metadata={"env": "UCM_ENABLE_STARTUP_WARMING"})
    redis_max_connections: int = field(default=50, metadata={"env": "REDIS_MAX_CONNECTIONS"})
    database_max_connections: int = field(default=20, metadata={"env": "DATABASE_MAX_CONNECTIONS"})
    health_check_interval: float = field(default=5.0, metadata={"env": "UCM_HEALTH_CHECK_INTERVAL"})
    redis_socket_timeout: float = field(default=0.5, metadata={"env": "UCM_REDIS_SOCKET_TIMEOUT"})
    key_frequency_top_n: int = field(default=20, metadata={"env": "UCM_KEY_FREQUENCY_TOP_N"})
    # hashed (default: sha256 prefix of the key) | plain (the key itself, opt-in) | off (no series)
    key_frequency_labels: str = field(default="hashed", metadata={"env": "UCM_KEY_FREQUENCY_LABELS"})
    profile: str | None = field(default=None, metadata={"env": "UCM_PROFILE"})

    def __post_init__(self) -> None:
        if self.l1_cache_size < 1:
            raise ValueError(f"UCM_L1_CACHE_SIZE must be >= 1, got {self.l1_cache_size}")
        if self.cache_ttl_seconds < 1:
            raise ValueError(f"UCM_CACHE_TTL_SECONDS must be >= 1, got {self.cache_ttl_seconds}")
        if self.warming_interval <= 0 or self.health_check_interval <= 0:
            raise ValueError("UCM_WARMING_INTERVAL and UCM_HEALTH_CHECK_INTERVAL must be > 0")
        if self.warming_batch_size < 1:
            raise ValueError(f"UCM_WARMING_BATCH_SIZE must be >= 1, got {self.warming_batch_size}")
        if self.redis_max_connections < 1 or self.database_max_connections < 1:
            raise ValueError("REDIS_MAX_CONNECTIONS and DATABASE_MAX_CONNECTIONS must be >= 1")
        if self.l1_max_bytes < 1 or self.l1_unsynced_ttl <= 0:
            raise ValueError("UCM_L1_MAX_BYTES must be >= 1 and UCM_L1_UNSYNCED_TTL > 0")
        if not 1 <= self.key_frequency_top_n <= 100:
            raise ValueError(f"UCM_KEY_FREQUENCY_TOP_N must be 1..100, got {self.key_frequency_top_n}")
        if self.key_frequency_labels not in ("hashed", "plain", "off"):
            raise ValueError(
                f"UCM_KEY_FREQUENCY_LABELS must be hashed, plain or off, got {self.key_frequency_labels!r}"
            )
        if self.profile is not None and self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose one of {sorted(PROFILES)}")

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        profile: str | None = None,
        **overrides: Any,
    ) -> CacheConfig:
        """Build a config: defaults < profile < environment < ``overrides``."""
        env = os.environ if env is None else env
        by_env = {f.metadata["env"]: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        profile = profile or env.get("UCM_PROFILE") or None
        if profile is not None:
            if profile not in PROFILES:
                raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
            for name, value in PROFILES[profile].items():
                values[by_env[name].name] = value
            values["profile"] = profile
        for name, f in by_env.items():
            if name == "UCM_PROFILE" or name not in env or env[name] == "":
                continue
            values[f.name] = _parse(name, env[name], f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> CacheConfig:
        return dataclasses.replace(self, **changes)


def _parse(name: str, raw: str, type_name: Any) -> Any:
    text = str(type_name)
    try:
        if text.startswith("bool"):
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid {text.split(' ')[0]}") from None
    return raw
