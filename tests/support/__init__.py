"""Shared helpers for tests that start real programs (Redis, Prometheus, Alertmanager, ...).

``tests/`` is on the import path (pytest's ``pythonpath`` in pyproject.toml), e.g.::

    from support.processes import require_program, free_port, ManagedProcess
    from support.redis_server import RedisServer
    from support.redis_fixtures import redis_server, redis_pair, redis_pair_factory  # re-export in conftest
"""
