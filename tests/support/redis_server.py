"""A real redis-server on a free loopback port, optionally a replica of another.

No persistence (``--save "" --appendonly no``), its own working directory, stopped by the
caller. ``kill()`` then ``start()`` restarts it on the same port (a crash and recovery).
"""
from __future__ import annotations

from pathlib import Path

from monspec.demo.processes import redis_info, redis_ping  # noqa: F401  (re-exported)

from .processes import ManagedProcess, free_port, require_program, wait_until


class RedisServer:
    def __init__(self, workdir: Path, port: int | None = None, replica_of: RedisServer | None = None):
        self.binary = require_program("redis-server", "/usr/bin/redis-server")
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.replica_of = replica_of
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--protected-mode", "no",
            "--repl-diskless-sync-delay", "0",  # replicas sync at once, not after 5 s
        ]
        if self.replica_of is not None:
            argv += ["--replicaof", "127.0.0.1", str(self.replica_of.port)]
        self.process = ManagedProcess(argv, self.workdir / f"redis-{self.port}.log").start()
        self.process.wait_ready(lambda: redis_ping(self.port), what=f"redis-server on port {self.port}")
        return self

    def wait_replica_synced(self, timeout: float = 10.0) -> None:
        """For a replica: wait until its link to the master is up."""
        wait_until(
            lambda: redis_info(self.port, "replication").get("master_link_status") == "up",
            timeout=timeout,
            what=f"replica on {self.port} to sync",
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.running

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
