"""L2: Redis, a master for writes and reads, an optional replica for reads when the master is down.

A background health loop pings both servers every ``UCM_HEALTH_CHECK_INTERVAL`` seconds
and keeps ``master_up`` / ``replica_up`` current; calls never wait for a server that is
known to be down, so the manager degrades to the replica, then to L1 + L3 ("emergency"),
and comes back by itself when Redis returns. Redis errors are counted, never raised.

Consistency: writes made while the master is unreachable cannot reach Redis, so their keys
are kept in ``dirty``; the replica is not consulted for them (it may hold an older value)
and they are deleted from the master before it is trusted again. Keys written just before
the master failed are treated the same way, since the replica may not have received them.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Callable

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .errors import ConfigurationError

log = logging.getLogger(__name__)

KEY_PREFIX = "ucm:"
_RECENT_WRITE_WINDOW = 2.0  # seconds of writes the replica may not have yet when the master fails


def _client(url: str, max_connections: int, timeout: float) -> Redis:
    # A plain pool: callers hold a semaphore of ``max_connections`` slots first, which waits
    # far more cheaply than redis-py's BlockingConnectionPool (measured ~20 us per call).
    pool = ConnectionPool.from_url(
        url,
        max_connections=max_connections,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))


class RedisLevel:
    def __init__(
        self,
        master_url: str | None,
        replica_url: str | None,
        *,
        max_connections: int,
        socket_timeout: float,
        health_interval: float,
        on_error: Callable[[str], None] = lambda role: None,
    ) -> None:
        if replica_url and not master_url:
            # Writes could never reach Redis, so the replica would serve stale values forever.
            raise ConfigurationError("REDIS_REPLICA_URL is set but REDIS_URL (the master) is not")
        self.master_url = master_url
        self.replica_url = replica_url
        self.max_connections = max_connections
        self.socket_timeout = socket_timeout
        self.health_interval = health_interval
        self.on_error = on_error
        self.master: Redis | None = None
        self.replica: Redis | None = None
        self.master_up = False
        self.replica_up = False
        self.dirty: set[str] = set()
        self._recent_writes: deque[tuple[float, str]] = deque(maxlen=4096)
        self._m_slots = asyncio.Semaphore(max_connections)
        self._r_slots = asyncio.Semaphore(max_connections)
        self.health_checks = 0
        self._health_event = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self.master_url:
            self.master = _client(self.master_url, self.max_connections, self.socket_timeout)
        if self.replica_url:
            self.replica = _client(self.replica_url, self.max_connections, self.socket_timeout)
        await self.check_health()
        self._task = asyncio.create_task(self._health_loop(), name="ucm-redis-health")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for client in (self.master, self.replica):
            if client is not None:
                try:
                    await client.aclose()
                    await client.connection_pool.aclose()
                except (RedisError, OSError):
                    pass
        self.master_up = self.replica_up = False

    # -- data path -----------------------------------------------------------------

    async def get(self, key: str) -> tuple[bytes | None, str | None]:
        """Return (raw value or None, role that answered or None when none could)."""
        name = KEY_PREFIX + key
        if self.master_up:
            try:
                async with self._m_slots:
                    return await self.master.get(name), "master"
            except (RedisError, OSError) as exc:
                self._master_failed(exc)
        if self.replica_up and key not in self.dirty:
            try:
                async with self._r_slots:
                    return await self.replica.get(name), "replica"
            except (RedisError, OSError) as exc:
                self._replica_failed(exc)
        return None, None

    async def mget(self, keys: list[str]) -> dict[str, bytes]:
        if not keys:
            return {}
        names = [KEY_PREFIX + k for k in keys]
        client, role = None, None
        if self.master_up:
            client, role = self.master, "master"
        elif self.replica_up:
            keys = [k for k in keys if k not in self.dirty]
            names = [KEY_PREFIX + k for k in keys]
            client, role = self.replica, "replica"
        if client is None or not keys:
            return {}
        try:
            async with self._m_slots if role == "master" else self._r_slots:
                values = await client.mget(names)
        except (RedisError, OSError) as exc:
            (self._master_failed if role == "master" else self._replica_failed)(exc)
            return {}
        return {k: v for k, v in zip(keys, values) if v is not None}

    async def _write(self, keys, command) -> bool:
        """Run one write command on the master. When the master is down or the write fails,
        the keys become dirty: never read from the replica, deleted from the master before
        it is trusted again."""
        if self.master_up:
            try:
                async with self._m_slots:
                    await command(self.master)
                now = time.monotonic()
                self._recent_writes.extend((now, k) for k in keys)
                return True
            except (RedisError, OSError) as exc:
                self._master_failed(exc)
        if self.master is not None:
            self.dirty.update(keys)
        return False

    async def set(self, key: str, raw: bytes, ttl: int) -> bool:
        return await self._write((key,), lambda master: master.set(KEY_PREFIX + key, raw, ex=ttl))

    async def set_many(self, items: dict[str, bytes], ttl: int) -> bool:
        """Store many entries in one pipeline (same failure rules as :meth:`set`)."""

        async def command(master):
            async with master.pipeline(transaction=False) as pipe:
                for key, raw in items.items():
                    pipe.set(KEY_PREFIX + key, raw, ex=ttl)
                await pipe.execute()

        return await self._write(list(items), command)

    async def delete(self, key: str) -> bool:
        return await self._write((key,), lambda master: master.delete(KEY_PREFIX + key))

    async def delete_many(self, keys: list[str]) -> bool:
        async def command(master):
            for i in range(0, len(keys), 500):
                await master.delete(*(KEY_PREFIX + k for k in keys[i : i + 500]))

        return await self._write(list(keys), command)

    async def ttl(self, key: str) -> int | None:
        """Remaining TTL of a key on the master (None when unknown); for tests and tools."""
        if not self.master_up:
            return None
        try:
            async with self._m_slots:
                return await self.master.ttl(KEY_PREFIX + key)
        except (RedisError, OSError) as exc:
            self._master_failed(exc)
            return None

    # -- health ----------------------------------------------------------------------

    async def check_health(self) -> None:
        """Ping both servers once and update the state; reconcile the master on recovery."""
        if self.master is not None:
            ok = await self._ping(self.master, self._m_slots)
            if ok and not self.master_up:
                ok = await self._reconcile_master()
                if ok:
                    log.info("redis master reachable again")
                    self.master_up = True
            elif not ok:
                self.on_error("master")
                if self.master_up:
                    self._master_down()
        if self.replica is not None:
            ok = await self._ping(self.replica, self._r_slots)
            if not ok:
                self.on_error("replica")
            self.replica_up = ok
        self.health_checks += 1
        self._health_event.set()
        self._health_event = asyncio.Event()

    async def wait_health_checks(self, count: int = 1) -> None:
        """Wait until ``count`` more health checks have completed (for tests and tools)."""
        target = self.health_checks + count
        while self.health_checks < target:
            await self._health_event.wait()

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.health_interval)
            try:
                await self.check_health()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the loop die
                log.exception("redis health check failed unexpectedly")

    async def _ping(self, client: Redis, slots: asyncio.Semaphore) -> bool:
        async def ping() -> bool:
            async with slots:
                return bool(await client.ping())

        try:
            return await asyncio.wait_for(ping(), self.socket_timeout * 2)
        except (RedisError, OSError, asyncio.TimeoutError):
            return False

    async def _reconcile_master(self) -> bool:
        if not self.dirty:
            return True
        keys = list(self.dirty)
        try:
            async with self._m_slots:
                for i in range(0, len(keys), 500):
                    await self.master.delete(*(KEY_PREFIX + k for k in keys[i : i + 500]))
        except (RedisError, OSError):
            self.on_error("master")
            return False
        self.dirty.difference_update(keys)
        return True

    def _master_down(self) -> None:
        self.master_up = False
        horizon = time.monotonic() - _RECENT_WRITE_WINDOW
        self.dirty.update(k for t, k in self._recent_writes if t >= horizon)
        self._recent_writes.clear()
        log.warning("redis master unreachable; reads fall back to the replica / database")

    def _master_failed(self, exc: BaseException) -> None:
        self.on_error("master")
        if self.master_up:
            self._master_down()

    def _replica_failed(self, exc: BaseException) -> None:
        self.on_error("replica")
        self.replica_up = False
