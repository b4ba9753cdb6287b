"""Fixtures for the unified_cache tests: real Redis (master + replica), a temp data dir,
a fresh CollectorRegistry per test, and ``config``: run once on SQLite and once on a real
PostgreSQL (every test that takes ``config`` covers both L3 databases)."""
from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from support.postgres_server import postgres_server, postgres_url  # noqa: F401  (re-exported fixtures)
from support.redis_fixtures import (  # noqa: F401  (re-exported fixtures)
    _redis_session_pair,
    redis_pair,
    redis_pair_factory,
    redis_server,
)
from unified_cache import CacheConfig, ManagerMode, UnifiedConnectionManager


@pytest.fixture
def registry():
    return CollectorRegistry()


@pytest.fixture
def make_config(tmp_path):
    def make(master=None, replica=None, **overrides) -> CacheConfig:
        settings = dict(
            redis_url=master.url if master else "redis://127.0.0.1:1/0",
            redis_replica_url=replica.url if replica else None,
            data_dir=str(tmp_path / "data"),
            health_check_interval=0.05,
            redis_socket_timeout=0.5,
            enable_warming=False,
        )
        settings.update(overrides)
        return CacheConfig.from_env(env={}, **settings)

    return make


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """None (SQLite under the data dir) or the URL of an empty PostgreSQL database."""
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def config(make_config, redis_pair, database_url):
    return make_config(*redis_pair, database_url=database_url)


@pytest.fixture
def make_manager(registry):
    def make(config: CacheConfig, **kwargs) -> UnifiedConnectionManager:
        return UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=config, registry=registry, **kwargs)

    return make
