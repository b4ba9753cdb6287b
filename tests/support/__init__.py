"""Shared helpers for tests that start real programs (Redis, Prometheus, Alertmanager, ...).

Import them after putting ``tests/`` on ``sys.path`` (a conftest does
``sys.path.insert(0, str(Path(__file__).resolve().parents[1]))``), e.g.::

    from support.processes import require_program, free_port, ManagedProcess
    from support.redis_server import RedisServer
    from support.redis_fixtures import redis_server, redis_pair, redis_pair_factory  # re-export in conftest
"""
