"""L1: the in-process LRU cache with per-entry TTL and version.

Kept deliberately small and synchronous: an L1 hit must cost well under a microsecond, so
there is no lock (the manager runs on one event loop) and no await. It also tracks which
entries were loaded by cache warming, so warming effectiveness (warmed keys read before they
leave L1) is measured where it happens.

What is bounded, precisely: the number of entries (``UCM_L1_CACHE_SIZE``) and the sum of each
entry's *measured size*, the length of the key in UTF-8 plus the length of the value's JSON
encoding, i.e. the bytes the same entry takes in Redis (``UCM_L1_MAX_BYTES``). The Python
objects behind a value take more than their JSON (about 3-8x for dicts of short strings);
the bound is on the encoded size because it is exact and costs nothing to measure.

Each entry carries the database version it came from; :meth:`set` never replaces an entry
with an older version, and :meth:`invalidate` drops entries older than a version another
instance wrote.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MISS = object()
"""Sentinel returned by :meth:`L1Cache.get` when the key is absent or expired."""

_WARM_UNREAD = 1
# entry layout: [value, expires_at, size_bytes, warm_state, version]
_VALUE, _EXPIRES, _SIZE, _WARM, _VERSION = range(5)


def measured_size(key: str, raw: bytes) -> int:
    """The bytes an entry is counted for: UTF-8 key plus JSON-encoded value."""
    return len(key.encode()) + len(raw)


class L1Cache:
    """LRU + TTL map. ``clock`` is injectable so tests can expire entries without sleeping."""

    def __init__(self, max_size: int, clock: Callable[[], float] = time.monotonic, max_bytes: int = 1 << 62) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1, got {max_size}")
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
        self.max_size = max_size
        self.max_bytes = max_bytes
        self.clock = clock
        self._data: OrderedDict[str, list] = OrderedDict()
        self.memory_bytes = 0
        self.evictions = 0
        self.expirations = 0
        self.warmed_loaded = 0
        self.warmed_read = 0
        self.warmed_unread_dropped = 0
        self.refused_stale = 0  # sets refused because L1 already held a newer version
        self.on_evict: Callable[[int], None] | None = None

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: str) -> bool:
        entry = self._data.get(key)
        return entry is not None and entry[_EXPIRES] > self.clock()

    @property
    def utilization(self) -> float:
        return len(self._data) / self.max_size

    @property
    def warming_hit_rate(self) -> float:
        """Share of warmed entries that were read before they were evicted or expired.

        Only settled entries count (read, or gone unread); 0.0 until one has settled.
        """
        settled = self.warmed_read + self.warmed_unread_dropped
        return self.warmed_read / settled if settled else 0.0

    def get(self, key: str) -> Any:
        data = self._data
        entry = data.get(key)
        if entry is None:
            return MISS
        if entry[_EXPIRES] <= self.clock():
            self._drop(key, entry)
            self.expirations += 1
            return MISS
        data.move_to_end(key)
        if entry[_WARM]:
            entry[_WARM] = 0
            self.warmed_read += 1
        return entry[_VALUE]

    def version(self, key: str) -> int:
        """Version of the entry held for ``key`` (0 when none)."""
        entry = self._data.get(key)
        return 0 if entry is None else entry[_VERSION]

    def set(self, key: str, value: Any, ttl: float, version: int, size: int, warmed: bool = False) -> bool:
        """Hold ``value`` (``size`` measured bytes) unless a newer version is held; True when stored."""
        data = self._data
        old = data.get(key)
        if old is not None:
            if old[_VERSION] > version:
                self.refused_stale += 1
                return False
            self._drop(key, old)
        if size > self.max_bytes:
            return False  # larger than the whole cache: not held (the other levels still are)
        data[key] = [value, self.clock() + ttl, size, _WARM_UNREAD if warmed else 0, version]
        self.memory_bytes += size
        if warmed:
            self.warmed_loaded += 1
        self._evict()
        return True

    def resize(self, max_size: int | None = None, max_bytes: int | None = None) -> None:
        """Change the bounds at run time (evicting the least recently used entries now)."""
        if max_size is not None:
            if max_size < 1:
                raise ValueError(f"max_size must be >= 1, got {max_size}")
            self.max_size = max_size
        if max_bytes is not None:
            self.max_bytes = max_bytes
        self._evict()

    def _evict(self) -> None:
        data = self._data
        evicted = 0
        while len(data) > self.max_size or self.memory_bytes > self.max_bytes:
            _, e = data.popitem(last=False)
            self.memory_bytes -= e[_SIZE]
            if e[_WARM]:
                self.warmed_unread_dropped += 1
            evicted += 1
        if evicted:
            self.evictions += evicted
            if self.on_evict is not None:
                self.on_evict(evicted)

    def invalidate(self, key: str, version: int) -> bool:
        """Drop ``key`` when the held entry is older than ``version``; True when dropped."""
        entry = self._data.get(key)
        if entry is None or entry[_VERSION] >= version:
            return False
        self._drop(key, entry)
        return True

    def delete(self, key: str) -> bool:
        entry = self._data.get(key)
        if entry is None:
            return False
        self._drop(key, entry)
        return True

    def clear(self) -> None:
        self._data.clear()
        self.memory_bytes = 0

    def keys(self) -> list[str]:
        return list(self._data)

    def _drop(self, key: str, entry: list) -> None:
        del self._data[key]
        self.memory_bytes -= entry[_SIZE]
        if entry[_WARM]:
            self.warmed_unread_dropped += 1
