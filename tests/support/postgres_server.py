"""A real PostgreSQL 15 (Debian's ``postgresql`` package) on a free loopback port.

PostgreSQL refuses to run as root, so when the tests run as root, ``initdb`` and
``postgres`` run as the ``postgres`` user the package creates (``runuser``), in a
temporary folder that user owns (pytest's own tmp folders are private to root).
No fsync, trust authentication on loopback only: a throwaway server for tests.

Fixtures: ``postgres_server`` (one per session) and ``postgres_url`` (a URL to an empty
database per test).
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from .processes import ManagedProcess, free_port, port_open, require_program

BINDIR = "/usr/lib/postgresql/15/bin"


class PostgresServer:
    def __init__(self) -> None:
        self.initdb = require_program("initdb", f"{BINDIR}/initdb")
        self.postgres = require_program("postgres", f"{BINDIR}/postgres")
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="ucm-pg-"))
        self.process: ManagedProcess | None = None
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = require_program("runuser", "/usr/sbin/runuser", "/sbin/runuser")
            owner = pwd.getpwnam("postgres")
            os.chown(self.workdir, owner.pw_uid, owner.pw_gid)
            self._as_user = [runuser, "-u", "postgres", "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        data = self.workdir / "data"
        subprocess.run(
            [*self._as_user, self.initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True,
        )
        argv = [*self._as_user, self.postgres, "-D", str(data), "-p", str(self.port), "-h", "127.0.0.1",
                "-k", str(self.workdir), "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=200"]
        self.process = ManagedProcess(argv, Path(tempfile.gettempdir()) / f"ucm-pg-{self.port}.log").start()
        self.process.wait_ready(lambda: port_open(self.port) and self._accepts(), timeout=30,
                                what=f"postgres on port {self.port}")
        return self

    def _accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server, request):
    """An empty database for this test, dropped afterwards."""
    name = f"t{abs(hash(request.node.nodeid)) % 10**12}"
    postgres_server.execute(f"DROP DATABASE IF EXISTS {name}")
    postgres_server.execute(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    postgres_server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
