"""pytest fixtures for real Redis servers; re-export the ones you need from a conftest.

- ``redis_server``: one master for the whole session, flushed before each test.
- ``redis_pair``: a master and a ``--replicaof`` replica for the session, flushed per test.
- ``redis_pair_factory``: call it to get a fresh (master, replica) pair that the test may
  kill and restart; stopped at the end of the test.
"""
from __future__ import annotations

import pytest

from .redis_server import RedisServer, redis_ping


def _flush(server: RedisServer) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=1) as sock:
        sock.sendall(b"FLUSHALL\r\n")
        assert sock.recv(64).startswith(b"+OK")


@pytest.fixture(scope="session")
def _redis_session_pair(tmp_path_factory):
    base = tmp_path_factory.mktemp("redis")
    master = RedisServer(base / "master").start()
    replica = RedisServer(base / "replica", replica_of=master).start()
    replica.wait_replica_synced()
    yield master, replica
    replica.stop()
    master.stop()


@pytest.fixture
def redis_pair(_redis_session_pair):
    master, replica = _redis_session_pair
    if not (redis_ping(master.port) and redis_ping(replica.port)):
        pytest.fail("the session Redis pair is down: a test killed it instead of using redis_pair_factory")
    _flush(master)
    return master, replica


@pytest.fixture
def redis_server(redis_pair):
    return redis_pair[0]


@pytest.fixture
def redis_pair_factory(tmp_path):
    started: list[RedisServer] = []

    def make() -> tuple[RedisServer, RedisServer]:
        n = len(started)
        master = RedisServer(tmp_path / f"master{n}").start()
        started.append(master)
        replica = RedisServer(tmp_path / f"replica{n}", replica_of=master).start()
        started.append(replica)
        replica.wait_replica_synced()
        return master, replica

    yield make
    for server in reversed(started):
        server.stop()
