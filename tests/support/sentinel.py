"""A Redis Sentinel deployment on loopback: a master, a replica and three sentinels.

Failover is made fast for tests (``down-after-milliseconds`` 300, quorum 2), so killing the
master gets the replica promoted in about a second. Each sentinel rewrites its own config
file, so each gets one in the temporary folder.
"""
from __future__ import annotations

import socket
from pathlib import Path

from .processes import ManagedProcess, free_port, require_program, wait_until
from .redis_server import RedisServer, redis_ping

SERVICE = "mymaster"


def sentinel_master(port: int, service: str = SERVICE) -> tuple[str, int] | None:
    """``SENTINEL get-master-addr-by-name`` over raw RESP: (host, port) or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(f"SENTINEL get-master-addr-by-name {service}\r\n".encode())
            reply = sock.recv(256).decode().split("\r\n")
    except OSError:
        return None
    if not reply[0].startswith("*2"):
        return None
    return reply[2], int(reply[4])


class SentinelDeployment:
    def __init__(self, workdir: Path, down_after_ms: int = 300) -> None:
        self.binary = require_program("redis-sentinel", "/usr/bin/redis-sentinel")
        self.workdir = Path(workdir)
        self.down_after_ms = down_after_ms
        self.master = RedisServer(self.workdir / "master")
        self.replica: RedisServer | None = None
        self.ports = [free_port() for _ in range(3)]
        self.sentinels: list[ManagedProcess] = []

    @property
    def addresses(self) -> str:
        """The value for ``REDIS_SENTINELS``."""
        return ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def start(self) -> SentinelDeployment:
        self.master.start()
        self.replica = RedisServer(self.workdir / "replica", replica_of=self.master).start()
        self.replica.wait_replica_synced()
        for i, port in enumerate(self.ports):
            folder = self.workdir / f"sentinel{i}"
            folder.mkdir(parents=True, exist_ok=True)
            conf = folder / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {folder}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}\n"
                f"sentinel failover-timeout {SERVICE} 3000\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
            )
            process = ManagedProcess([self.binary, str(conf)], folder / "sentinel.log").start()
            process.wait_ready(lambda p=port: redis_ping(p), what=f"redis-sentinel on {port}")
            self.sentinels.append(process)
        # every sentinel knows the replica and the other sentinels before a test kills anything
        wait_until(lambda: all(self._sees_all(p) for p in self.ports), timeout=20, what="sentinels to discover each other")
        return self

    def _sees_all(self, port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(f"SENTINEL master {SERVICE}\r\n".encode())
                text = sock.recv(8192).decode()
        except OSError:
            return False
        fields = text.split("\r\n")
        values = dict(zip(fields[2::4], fields[4::4], strict=False))
        return values.get("num-slaves") == "1" and values.get("num-other-sentinels") == "2"

    def current_master(self) -> tuple[str, int] | None:
        for port in self.ports:
            found = sentinel_master(port)
            if found:
                return found
        return None

    def stop(self) -> None:
        for process in self.sentinels:
            process.stop()
        for server in (self.replica, self.master):
            if server is not None:
                server.stop()
