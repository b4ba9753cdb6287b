"""L3: the database, the source of truth behind both caches.

SQLite by default (a file under ``UCM_DATA_DIR``, so it runs with nothing installed);
PostgreSQL when ``DATABASE_URL`` is ``postgresql://…`` and a driver (psycopg 3 or
psycopg2) is importable. Both speak DB-API 2, so one implementation serves both: calls run
on a private thread pool, so the event loop never blocks on disk or network, and
connections come from a bounded pool of ``DATABASE_MAX_CONNECTIONS``.

Values are stored as bytes and never expire here: TTLs belong to the caches.

Every row carries a ``version`` that the database itself increments on each write, under
the row lock (``version = version + 1`` in the upsert), so versions of one key follow the
commit order whatever instance wrote. A delete keeps the row as a tombstone (empty value,
next version) so a slow reader holding the old version can still be told it is old. The
caches only ever install a version newer than what they hold (see :mod:`unified_cache.l2`).
Tombstones are not purged: one small row per deleted key.
"""
from __future__ import annotations

import asyncio
import importlib
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import ConfigurationError, DatabaseError

TABLE = "ucm_cache"
TOMBSTONE = b""  # JSON never encodes to nothing, so an empty value marks a deleted key
SQLITE_BUSY_TIMEOUT = 2.0  # seconds a SQLite writer waits for the lock before DatabaseError


class Database:
    """A pooled DB-API database holding ``key -> value bytes``."""

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        dialect: str,
        max_connections: int,
        driver_errors: tuple[type[BaseException], ...],
        on_error: Callable[[], None] = lambda: None,
        description: str = "",
    ) -> None:
        self._connect = connect
        self.dialect = dialect
        self.max_connections = max_connections
        self._errors = driver_errors
        self.on_error = on_error
        # The fault switch's database mode (``ucm fault db_errors=SHARE``): True fails the call.
        self.injected_failure: Callable[[], bool] = lambda: False
        self.description = description
        self._p = "?" if dialect == "sqlite" else "%s"
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._all: list[Any] = []
        self.active = 0
        self._executor = ThreadPoolExecutor(max_workers=min(max_connections, 32), thread_name_prefix="ucm-db")

    def connect(self) -> Any:
        """A new connection outside the pool, for callers that query the table directly
        (the benchmark's database-only baseline)."""
        conn = self._connect()
        if self.dialect == "postgresql":
            conn.autocommit = True
        return conn

    def select_value_sql(self) -> str:
        return f"SELECT value FROM {TABLE} WHERE key = {self._p}"

    @property
    def pool_utilization(self) -> float:
        return self.active / self.max_connections

    async def start(self) -> None:
        blob = "BLOB" if self.dialect == "sqlite" else "BYTEA"
        ddl = (
            f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, value {blob} NOT NULL, "
            "updated_at DOUBLE PRECISION NOT NULL, version BIGINT NOT NULL DEFAULT 0)"
        )

        def create(cur: Any) -> None:
            cur.execute(ddl)
            cur.execute(f"SELECT * FROM {TABLE} LIMIT 0")
            if "version" not in [d[0] for d in cur.description]:  # a table from before versions
                cur.execute(f"ALTER TABLE {TABLE} ADD COLUMN version BIGINT NOT NULL DEFAULT 0")

        await self._run(create, write=True)

    async def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except Exception:
                pass

    async def get(self, key: str) -> tuple[bytes | None, int]:
        """``(raw, version)``: raw is None when the key is absent or deleted."""
        sql = f"SELECT value, version FROM {TABLE} WHERE key = {self._p}"

        def op(cur: Any) -> tuple[bytes | None, int]:
            cur.execute(sql, (key,))
            row = cur.fetchone()
            if row is None:
                return None, 0
            raw = bytes(row[0])
            return (raw or None), int(row[1])

        return await self._run(op)

    async def get_many(self, keys: list[str]) -> dict[str, tuple[bytes, int]]:
        """Present (not deleted) keys among ``keys``: key -> (raw, version)."""
        if not keys:
            return {}

        def op(cur: Any) -> dict[str, tuple[bytes, int]]:
            found: dict[str, tuple[bytes, int]] = {}
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ", ".join([self._p] * len(chunk))
                cur.execute(f"SELECT key, value, version FROM {TABLE} WHERE key IN ({marks})", chunk)
                found.update((k, (bytes(v), int(n))) for k, v, n in cur.fetchall() if bytes(v))
            return found

        return await self._run(op)

    def _upsert_sql(self) -> str:
        p = self._p
        return (
            f"INSERT INTO {TABLE} (key, value, updated_at, version) VALUES ({p}, {p}, {p}, 1) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, "
            f"version = {TABLE}.version + 1 RETURNING version"
        )

    async def set(self, key: str, raw: bytes, now: float) -> int:
        """Store ``raw``; returns the new version."""
        sql = self._upsert_sql()

        def op(cur: Any) -> int:
            cur.execute(sql, (key, raw, now))
            return int(cur.fetchone()[0])

        return await self._run(op, write=True)

    async def set_many(self, items: dict[str, bytes], now: float) -> dict[str, int]:
        """Store many entries in one transaction; returns key -> new version."""
        sql = self._upsert_sql()

        def op(cur: Any) -> dict[str, int]:
            versions = {}
            for key, raw in items.items():
                cur.execute(sql, (key, raw, now))
                versions[key] = int(cur.fetchone()[0])
            return versions

        return await self._run(op, write=True)

    def _tombstone_sql(self) -> str:
        p = self._p
        return (
            f"UPDATE {TABLE} SET value = {p}, updated_at = {p}, version = version + 1 "
            f"WHERE key = {p} AND value <> {p} RETURNING version"
        )

    async def delete(self, key: str, now: float) -> int | None:
        """Delete ``key`` (leaving a tombstone); its new version, or None when it was absent."""
        sql = self._tombstone_sql()

        def op(cur: Any) -> int | None:
            cur.execute(sql, (TOMBSTONE, now, key, TOMBSTONE))
            row = cur.fetchone()
            return None if row is None else int(row[0])

        return await self._run(op, write=True)

    async def delete_many(self, keys: list[str], now: float) -> dict[str, int]:
        """Delete many keys in one transaction; key -> new version for those that existed."""
        sql = self._tombstone_sql()

        def op(cur: Any) -> dict[str, int]:
            versions = {}
            for key in keys:
                cur.execute(sql, (TOMBSTONE, now, key, TOMBSTONE))
                row = cur.fetchone()
                if row is not None:
                    versions[key] = int(row[0])
            return versions

        return await self._run(op, write=True)

    async def recent(self, limit: int) -> dict[str, tuple[bytes, int]]:
        """The most recently written present entries (used by startup warming)."""
        sql = (
            f"SELECT key, value, version FROM {TABLE} WHERE value <> {self._p} "
            f"ORDER BY updated_at DESC LIMIT {int(limit)}"
        )

        def op(cur: Any) -> dict[str, tuple[bytes, int]]:
            cur.execute(sql, (TOMBSTONE,))
            return {k: (bytes(v), int(n)) for k, v, n in cur.fetchall()}

        return await self._run(op)

    # -- pool ------------------------------------------------------------------------

    async def _run(self, op: Callable[[Any], Any], write: bool = False) -> Any:
        loop = asyncio.get_running_loop()
        if self.injected_failure():  # as a lost database fails: counted, raised, never run
            self.on_error()
            raise DatabaseError(f"{self.description}: injected database error (fault switch db_errors)")
        try:
            return await loop.run_in_executor(self._executor, self._call, op, write)
        except self._errors as exc:
            self.on_error()
            raise DatabaseError(f"{self.description}: {exc}") from exc
        except RuntimeError as exc:  # executor shut down
            raise DatabaseError(f"{self.description}: database is closed") from exc

    def _call(self, op: Callable[[Any], Any], write: bool) -> Any:
        self._slots.acquire()
        with self._lock:
            self.active += 1
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
                with self._lock:
                    self._all.append(conn)
            cur = conn.cursor()
            try:
                result = op(cur)
            finally:
                cur.close()
            conn.commit()
            self._idle.put(conn)
            conn = None
            return result
        except BaseException:
            if conn is not None:  # a broken connection is dropped, not reused
                try:
                    conn.rollback()
                    self._idle.put(conn)
                except Exception:
                    with self._lock:
                        if conn in self._all:
                            self._all.remove(conn)
            raise
        finally:
            with self._lock:
                self.active -= 1
            self._slots.release()


def open_database(
    database_url: str | None, data_dir: str, max_connections: int, on_error: Callable[[], None]
) -> Database:
    """Build the L3 for a ``DATABASE_URL`` (None: SQLite file under ``data_dir``)."""
    if not database_url:
        path = Path(data_dir) / "ucm.sqlite3"
        return _sqlite(path, max_connections, on_error)
    parsed = urlparse(database_url)
    scheme = parsed.scheme.split("+")[0]
    if scheme == "sqlite":
        # sqlite:///relative.db or sqlite:////absolute/path.db (SQLAlchemy style)
        raw = database_url.split(":///", 1)[1] if ":///" in database_url else ""
        if not raw or raw == ":memory:":
            raise ConfigurationError(f"DATABASE_URL {database_url!r}: give a file path, e.g. sqlite:////tmp/ucm.db")
        return _sqlite(Path(raw), max_connections, on_error)
    if scheme in ("postgresql", "postgres"):
        return _postgres(database_url, max_connections, on_error)
    raise ConfigurationError(f"DATABASE_URL {database_url!r}: unsupported scheme {scheme!r} (use sqlite or postgresql)")


def _sqlite(path: Path, max_connections: int, on_error: Callable[[], None]) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:  # WAL once per file: readers never wait for the writer
        conn.execute("PRAGMA journal_mode=WAL")

    def connect() -> sqlite3.Connection:
        # A writer waits at most SQLITE_BUSY_TIMEOUT for another writer's lock, then the call
        # fails as DatabaseError (counted in unified_database_connection_errors_total).
        conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    return Database(
        connect,
        dialect="sqlite",
        max_connections=max_connections,
        driver_errors=(sqlite3.Error,),
        on_error=on_error,
        description=f"sqlite {os.fspath(path)}",
    )


def _postgres(url: str, max_connections: int, on_error: Callable[[], None]) -> Database:
    for name in ("psycopg", "psycopg2"):
        try:
            driver = importlib.import_module(name)
            break
        except ImportError:
            continue
    else:
        raise ConfigurationError(
            "DATABASE_URL is postgresql:// but no PostgreSQL driver is installed; "
            "install psycopg (pip install 'psycopg[binary]') or use the default SQLite store"
        )
    dsn = url.replace("postgresql+psycopg://", "postgresql://").replace("postgres://", "postgresql://")
    return Database(
        lambda: driver.connect(dsn),
        dialect="postgresql",
        max_connections=max_connections,
        driver_errors=(driver.Error,),
        on_error=on_error,
        description=f"postgresql {urlparse(dsn).hostname}",
    )
