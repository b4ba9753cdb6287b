"""L2: Redis. A master (fixed ``REDIS_URL`` or discovered through Sentinel) for writes and
reads, an optional replica for reads while the master is unreachable, and the channel that
keeps every instance's L1 in step.

Failures. Only a connection failure (refused, reset, timed out) marks a server down; a
background loop checks both every ``UCM_HEALTH_CHECK_INTERVAL`` seconds and brings them back.
A command error (an OOM-refused write, a rejected TTL) leaves the server up and is counted by
kind; the key it concerned is deleted so Redis never keeps a value older than the database.

Versions. Each value is stored as ``b"<version>:<json>"`` (``b"<version>:"`` for a deleted
key), the version being the database row's (see :mod:`unified_cache.l3`). Every write goes
through one Lua script that stores a version only when it is newer than the stored one, so
a slow reader can never put an old value back over a newer write, whatever instance wrote.

Replica. Read only while its ``INFO replication`` says ``master_link_status:up`` (checked
with each health check, and presumed down the moment the master fails): a replica cut off
from its master holds old values. Keys written while the master was unreachable, or shortly
before it failed, are ``dirty``: never read from the replica, deleted from the master before
it is trusted again.

Sentinel. With ``REDIS_SENTINELS`` the health loop asks Sentinel for the master of
``REDIS_SENTINEL_SERVICE``. When the address changes (a failover), the promoted server may
lack the last writes the old master acknowledged, so every ``ucm:`` key is deleted from it
before it is used; until then reads go to the database.

Invalidation. Writes publish ``"<version> <key length> <key><json>"`` on ``ucm:invalidate``
in the same script (the JSON only up to 8 KiB, none for a delete); each instance subscribes
and replaces an older L1 entry it holds with the new value (or drops it when no value came),
so another instance's write costs no L1 miss. While the subscription is down, messages
may be missed, so the manager clears L1 and holds L1 entries at most ``UCM_L1_UNSYNCED_TTL``
until it is back (``synced``).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .errors import ConfigurationError

log = logging.getLogger(__name__)

KEY_PREFIX = "ucm:"
CHANNEL = "ucm:invalidate"
_RECENT_WRITE_WINDOW = 2.0  # seconds of writes the replica may not have yet when the master fails
#: Redis error prefixes counted by name in ``unified_redis_command_errors_total{kind}``; others are "other".
COMMAND_ERROR_KINDS = ("oom", "readonly", "busy", "loading", "noscript", "wrongtype", "err", "other")
CONNECTION_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)

# KEYS[1] key; ARGV: version, payload ("" = deleted), ttl seconds, publish (1/0), channel.
_SET_IF_NEWER = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, '^(%d+):'))
  if v and v >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'EX', ARGV[3])
if ARGV[4] == '1' then
  local key = string.sub(KEYS[1], 5)
  local payload = ''
  if string.len(ARGV[2]) <= 8192 then payload = ARGV[2] end
  redis.call('PUBLISH', ARGV[5], ARGV[1] .. ' ' .. string.len(key) .. ' ' .. key .. payload)
end
return 1
"""


def error_kind(exc: BaseException) -> str:
    """The bounded kind of a Redis command error, from its reply prefix (``OOM ...`` -> oom).

    redis-py strips the prefixes it knows into ``status_code``; others stay in the message."""
    word = (getattr(exc, "status_code", None) or str(exc).split(" ", 1)[0]).lower()
    return word if word in COMMAND_ERROR_KINDS else "other"


def decode(stored: bytes | None) -> tuple[bytes | None, int]:
    """``(raw json or None, version)`` of a stored L2 value; (None, 0) when absent."""
    if stored is None:
        return None, 0
    version, _, raw = stored.partition(b":")
    if not version.isdigit():
        return None, 0  # not written by this library (or by a version before versions): a miss
    return (raw or None), int(version)


def parse_invalidation(data: bytes) -> tuple[str, int, bytes | None]:
    """``b"<version> <key bytes> <key><json>"`` -> (key, version, json or None when the write
    was a delete or its value too large to send along)."""
    version, _, rest = data.partition(b" ")
    length, _, rest = rest.partition(b" ")
    n = int(length)
    return rest[:n].decode(), int(version), (rest[n:] or None)


def parse_sentinels(text: str) -> list[tuple[str, int]]:
    """``"host:port,host:port"`` -> [(host, port), ...]; ConfigurationError when malformed."""
    found = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        host, sep, port = part.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigurationError(f"REDIS_SENTINELS entry {part!r} is not host:port")
        found.append((host, int(port)))
    if not found:
        raise ConfigurationError("REDIS_SENTINELS is set but names no sentinel")
    return found


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


async def _close_client(client: Redis | None) -> None:
    if client is not None:
        try:
            await client.aclose()
            await client.connection_pool.aclose()
        except (RedisError, OSError):
            pass


class RedisLevel:
    def __init__(
        self,
        master_url: str | None,
        replica_url: str | None,
        *,
        max_connections: int,
        socket_timeout: float,
        health_interval: float,
        sentinels: str | None = None,
        sentinel_service: str = "mymaster",
        on_error: Callable[[str], None] = lambda role: None,
        on_command_error: Callable[[str, str], None] = lambda role, kind: None,
        on_invalidate: Callable[[str, int, bytes | None], None] = lambda key, version, raw: None,
        on_sync_lost: Callable[[], None] = lambda: None,
    ) -> None:
        if replica_url and not (master_url or sentinels):
            # Writes could never reach Redis, so the replica would serve stale values forever.
            raise ConfigurationError("REDIS_REPLICA_URL is set but REDIS_URL (the master) is not")
        self.master_url = master_url
        self.replica_url = replica_url
        self.sentinel_addresses = parse_sentinels(sentinels) if sentinels else None
        self.sentinel_service = sentinel_service
        self.max_connections = max_connections
        self.socket_timeout = socket_timeout
        self.health_interval = health_interval
        self.on_error = on_error
        self.on_command_error = on_command_error
        self.on_invalidate = on_invalidate
        self.on_sync_lost = on_sync_lost
        self.master: Redis | None = None
        self.replica: Redis | None = None
        self.master_address: tuple[str, int] | None = None
        self.master_up = False
        self.replica_up = False
        self.replica_in_sync = False
        self.synced = False  # the invalidation subscription is live
        self.failovers = 0
        self._purge_pending = False  # a failover happened: empty the new master before use
        self.dirty: set[str] = set()
        self._recent_writes: deque[tuple[float, str]] = deque(maxlen=4096)
        self._m_slots = asyncio.Semaphore(max_connections)
        self._r_slots = asyncio.Semaphore(max_connections)
        self._sentinel: Sentinel | None = None
        self._script: AsyncScript | None = None
        self.health_checks = 0
        self._health_event = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    @property
    def configured(self) -> bool:
        return self.master_url is not None or self.sentinel_addresses is not None

    async def start(self) -> None:
        if self.sentinel_addresses:
            self._sentinel = Sentinel(
                self.sentinel_addresses, socket_timeout=self.socket_timeout, socket_connect_timeout=self.socket_timeout
            )
        elif self.master_url:
            self.master = _client(self.master_url, self.max_connections, self.socket_timeout)
        if self.replica_url:
            self.replica = _client(self.replica_url, self.max_connections, self.socket_timeout)
        await self.check_health()
        self._tasks.append(asyncio.create_task(self._health_loop(), name="ucm-redis-health"))
        if self.configured:
            self._tasks.append(asyncio.create_task(self._subscription_loop(), name="ucm-redis-invalidation"))
            if self.master_up:  # start in step with the other instances when Redis is there
                try:
                    async with asyncio.timeout(self.socket_timeout * 4):
                        await self._subscribed.wait()
                except TimeoutError:
                    pass
        else:
            self.synced = True  # no Redis, no other instance to keep in step with

    async def close(self) -> None:
        # asyncio.timeout (not wait_for, which in 3.11 can swallow a cancellation that races
        # its inner call) keeps the loops cancellable; cancel again until each has ended anyway.
        for task in self._tasks:
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
        self._tasks = []
        await _close_client(self.master)
        await _close_client(self.replica)
        if self._sentinel is not None:
            for client in self._sentinel.sentinels:
                await _close_client(client)
        self.master_up = self.replica_up = self.synced = False

    # -- data path -----------------------------------------------------------------

    async def get(self, key: str) -> tuple[bytes | None, int, str | None]:
        """``(raw or None, version, role that answered or None when none could)``."""
        name = KEY_PREFIX + key
        if self.master_up:
            try:
                async with self._m_slots:
                    return (*decode(await self.master.get(name)), "master")
            except CONNECTION_FAILURES as exc:
                self._master_failed(exc)
            except RedisError as exc:
                self.on_command_error("master", error_kind(exc))
                return None, 0, None
        if self.replica_up and self.replica_in_sync and key not in self.dirty:
            try:
                async with self._r_slots:
                    return (*decode(await self.replica.get(name)), "replica")
            except CONNECTION_FAILURES as exc:
                self._replica_failed(exc)
            except RedisError as exc:
                self.on_command_error("replica", error_kind(exc))
        return None, 0, None

    async def mget(self, keys: list[str]) -> dict[str, tuple[bytes, int]]:
        """Present keys among ``keys``: key -> (raw, version)."""
        if not keys:
            return {}
        client, role = None, None
        if self.master_up:
            client, role = self.master, "master"
        elif self.replica_up and self.replica_in_sync:
            keys = [k for k in keys if k not in self.dirty]
            client, role = self.replica, "replica"
        if client is None or not keys:
            return {}
        try:
            async with self._m_slots if role == "master" else self._r_slots:
                values = await client.mget([KEY_PREFIX + k for k in keys])
        except CONNECTION_FAILURES as exc:
            (self._master_failed if role == "master" else self._replica_failed)(exc)
            return {}
        except RedisError as exc:
            self.on_command_error(role, error_kind(exc))
            return {}
        found = {}
        for key, stored in zip(keys, values, strict=True):
            raw, version = decode(stored)
            if raw is not None:
                found[key] = (raw, version)
        return found

    async def put(self, items: dict[str, tuple[bytes, int]], ttl: int, publish: bool) -> bool:
        """Store each ``key -> (raw, version)`` unless Redis holds that version or a newer one
        (raw ``b""`` stores a deletion). ``publish`` tells the other instances (a write, not a
        refill). When the master is down or the write fails, the keys become dirty."""
        if not items:
            return True
        if self.master_up:
            try:
                async with self._m_slots:
                    await self._put(items, ttl, publish)
                now = time.monotonic()
                self._recent_writes.extend((now, k) for k in items)
                return True
            except CONNECTION_FAILURES as exc:
                self._master_failed(exc)
            except RedisError as exc:
                self.on_command_error("master", error_kind(exc))
                if await self._forget(list(items)):
                    return False
        if self.configured:
            self.dirty.update(items)
        return False

    async def _put(self, items: dict[str, tuple[bytes, int]], ttl: int, publish: bool) -> None:
        flag = "1" if publish else "0"
        if len(items) == 1:
            ((key, (raw, version)),) = items.items()
            await self._script(keys=[KEY_PREFIX + key], args=[version, raw, ttl, flag, CHANNEL], client=self.master)
            return
        async with self.master.pipeline(transaction=False) as pipe:
            for key, (raw, version) in items.items():
                await self._script(keys=[KEY_PREFIX + key], args=[version, raw, ttl, flag, CHANNEL], client=pipe)
            await pipe.execute()

    async def _forget(self, keys: list[str]) -> bool:
        """After a refused write: delete the keys (DEL is allowed even when Redis is out of
        memory) so the old value is not served; False when even that failed."""
        try:
            async with self._m_slots:
                for i in range(0, len(keys), 500):
                    await self.master.delete(*(KEY_PREFIX + k for k in keys[i : i + 500]))
            return True
        except CONNECTION_FAILURES as exc:
            self._master_failed(exc)
        except RedisError as exc:
            self.on_command_error("master", error_kind(exc))
        return False

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
        """Check both servers once and update the state; reconcile the master on recovery."""
        if self._sentinel is not None:
            await self._follow_sentinel()
        if self.master is not None:
            ok = await self._ping(self.master, self._m_slots)
            if ok and not self.master_up:
                ok = await self._reconcile_master()
                if ok:
                    log.info("redis master reachable at %s", self.master_address or self.master_url)
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
            self.replica_in_sync = ok and await self._link_up(self.replica)
        self.health_checks += 1
        self._health_event.set()
        self._health_event = asyncio.Event()

    async def wait_health_checks(self, count: int = 1) -> None:
        """Wait until ``count`` more health checks have completed (for tests and tools)."""
        target = self.health_checks + count
        while self.health_checks < target:
            await self._health_event.wait()

    async def _follow_sentinel(self) -> None:
        try:
            async with asyncio.timeout(self.socket_timeout * 4):
                address = await self._sentinel.discover_master(self.sentinel_service)
        except (TimeoutError, RedisError, OSError):
            address = None  # no sentinel answered: keep the master we know
        if address is None or tuple(address) == self.master_address:
            return
        first = self.master_address is None
        if self.master_up:
            self._master_down()
        old = self.master
        self.master_address = (address[0], int(address[1]))
        self.master = _client(f"redis://{address[0]}:{address[1]}/0", self.max_connections, self.socket_timeout)
        await _close_client(old)
        if not first:
            self.failovers += 1
            self._purge_pending = True
            log.warning("sentinel failover: redis master is now %s:%s", *self.master_address)

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
            async with asyncio.timeout(self.socket_timeout * 2):
                return await ping()
        except (TimeoutError, RedisError, OSError):
            return False

    async def _link_up(self, replica: Redis) -> bool:
        try:
            async with self._r_slots, asyncio.timeout(self.socket_timeout * 2):
                info = await replica.info("replication")
        except (TimeoutError, RedisError, OSError):
            return False
        return info.get("role") == "slave" and info.get("master_link_status") == "up"

    async def _reconcile_master(self) -> bool:
        """Before trusting a (new or returning) master: load the script, delete dirty keys,
        and after a failover delete every cache key the promoted server inherited."""
        try:
            # Connections opened before the outage are dead; drop them so no call trips on one.
            await self.master.connection_pool.disconnect()
            async with self._m_slots:
                if self._script is None:
                    self._script = self.master.register_script(_SET_IF_NEWER)
                if self._purge_pending:
                    async for name in self.master.scan_iter(match=KEY_PREFIX + "*", count=1000):
                        await self.master.unlink(name)
                    self._purge_pending = False
                keys = list(self.dirty)
                for i in range(0, len(keys), 500):
                    await self.master.delete(*(KEY_PREFIX + k for k in keys[i : i + 500]))
        except (RedisError, OSError):
            self.on_error("master")
            return False
        self.dirty.difference_update(keys)
        return True

    def _master_down(self) -> None:
        self.master_up = False
        self.replica_in_sync = False  # its link to the dead master is down too, until it says otherwise
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
        self.replica_up = self.replica_in_sync = False

    # -- invalidation channel --------------------------------------------------------------

    async def _subscription_loop(self) -> None:
        """Keep one subscription to ``ucm:invalidate`` on the current master."""
        while True:
            client = self.master
            if client is None or not self.master_up:
                self._lose_sync()
                await asyncio.sleep(self.health_interval)
                continue
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self.synced = True
                self._subscribed.set()
                while self.master is client and self.master_up:
                    # shorter than the socket timeout, or an idle channel would read as a dead one
                    message = await pubsub.get_message(timeout=min(self.health_interval, self.socket_timeout / 2))
                    if message is not None and message["type"] == "message":
                        self.on_invalidate(*parse_invalidation(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("invalidation channel lost: %s", exc)
            finally:
                self._lose_sync()
                try:
                    await pubsub.aclose()
                except (RedisError, OSError):
                    pass
            await asyncio.sleep(self.health_interval)

    def _lose_sync(self) -> None:
        if self.synced:
            self.synced = False
            self._subscribed.clear()
            self.on_sync_lost()
