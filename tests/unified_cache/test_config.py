"""Configuration: profile values and types, environment precedence, validation."""
from __future__ import annotations

import pytest

from unified_cache import CacheConfig, ManagerMode, UnifiedConnectionManager
from unified_cache.config import PROFILE_DESCRIPTIONS, PROFILES


def test_every_profile_is_described_and_holds_plain_values():
    assert set(PROFILE_DESCRIPTIONS) == set(PROFILES) == {"high_traffic", "memory_constrained", "ultra_low_latency"}
    for settings in PROFILES.values():
        for name, value in settings.items():
            assert name.isupper() and type(value) in (int, float, bool), name


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_values_reach_the_config(name):
    cfg = CacheConfig.from_env(env={}, profile=name)
    settings = PROFILES[name]
    assert cfg.l1_cache_size == settings["UCM_L1_CACHE_SIZE"]
    assert cfg.cache_ttl_seconds == settings["UCM_CACHE_TTL_SECONDS"]
    assert cfg.warming_interval == settings["UCM_WARMING_INTERVAL"]
    assert cfg.warming_threshold == settings["UCM_WARMING_THRESHOLD"]
    assert cfg.warming_batch_size == settings["UCM_WARMING_BATCH_SIZE"]
    assert cfg.enable_startup_warming == settings.get("UCM_ENABLE_STARTUP_WARMING", False)
    if "REDIS_MAX_CONNECTIONS" in settings:
        assert cfg.redis_max_connections == settings["REDIS_MAX_CONNECTIONS"]
        assert cfg.database_max_connections == settings["DATABASE_MAX_CONNECTIONS"]


def test_environment_overrides_profile_and_defaults():
    env = {
        "UCM_PROFILE": "high_traffic",
        "UCM_L1_CACHE_SIZE": "42",
        "UCM_ENABLE_WARMING": "false",
        "UCM_WARMING_THRESHOLD": "0.25",
        "REDIS_URL": "redis://10.0.0.1:6380/2",
        "REDIS_REPLICA_URL": "redis://10.0.0.2:6380/2",
        "DATABASE_URL": "sqlite:////tmp/x.db",
        "UCM_DATA_DIR": "/tmp/ucm",
    }
    cfg = CacheConfig.from_env(env=env)
    assert (cfg.profile, cfg.l1_cache_size, cfg.enable_warming, cfg.warming_threshold) == ("high_traffic", 42, False, 0.25)
    assert cfg.cache_ttl_seconds == 900  # from the profile
    assert (cfg.redis_url, cfg.redis_replica_url) == ("redis://10.0.0.1:6380/2", "redis://10.0.0.2:6380/2")
    assert (cfg.database_url, cfg.data_dir) == ("sqlite:////tmp/x.db", "/tmp/ucm")
    assert CacheConfig.from_env(env=env, l1_cache_size=7).l1_cache_size == 7  # explicit wins


def test_defaults():
    cfg = CacheConfig.from_env(env={})
    assert cfg.redis_url == "redis://127.0.0.1:6379/0"
    assert cfg.redis_replica_url is None and cfg.database_url is None and cfg.profile is None


@pytest.mark.parametrize(
    "env, message",
    [
        ({"UCM_L1_CACHE_SIZE": "big"}, "UCM_L1_CACHE_SIZE='big' is not a valid int"),
        ({"UCM_ENABLE_WARMING": "maybe"}, "UCM_ENABLE_WARMING='maybe' is not a valid bool"),
        ({"UCM_L1_CACHE_SIZE": "0"}, "UCM_L1_CACHE_SIZE must be >= 1"),
        ({"UCM_PROFILE": "turbo"}, "unknown profile 'turbo'"),
    ],
)
def test_bad_settings_fail_early(env, message):
    with pytest.raises(ValueError) as err:
        CacheConfig.from_env(env=env)
    assert message in str(err.value)


def test_manager_mode_selects_the_profile(monkeypatch, registry):
    for name in ("UCM_PROFILE", "UCM_L1_CACHE_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert UnifiedConnectionManager(ManagerMode.MEMORY_CONSTRAINED, registry=registry).config.l1_cache_size == 1000
    assert UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, registry=registry).config.profile is None
    monkeypatch.setenv("UCM_L1_CACHE_SIZE", "11")
    assert UnifiedConnectionManager(ManagerMode.ULTRA_LOW_LATENCY, registry=registry).config.l1_cache_size == 11


def test_get_unified_manager_is_one_per_mode_until_closed(monkeypatch, tmp_path):
    import asyncio

    from unified_cache import get_unified_manager

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("UCM_DATA_DIR", str(tmp_path))
    first = get_unified_manager(ManagerMode.HIGH_AVAILABILITY)
    assert get_unified_manager(ManagerMode.HIGH_AVAILABILITY) is first
    assert get_unified_manager(ManagerMode.HIGH_TRAFFIC) is not first

    async def cycle():
        await first.initialize()
        await first.close()

    asyncio.run(cycle())
    assert get_unified_manager(ManagerMode.HIGH_AVAILABILITY) is not first
    with pytest.raises(ValueError):
        get_unified_manager("high_availability")
