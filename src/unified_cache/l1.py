"""L1: the in-process LRU cache with per-entry TTL.

Kept deliberately small and synchronous: an L1 hit must cost a few microseconds, so there
is no lock (the manager runs on one event loop) and no await. It also tracks which entries
were loaded by cache warming, so warming effectiveness (warmed keys read before they leave
L1) is measured where it happens.
"""
from __future__ import annotations

import sys
import time
from collections import OrderedDict
from typing import Any, Callable

MISS = object()
"""Sentinel returned by :meth:`L1Cache.get` when the key is absent or expired."""

_WARM_UNREAD = 1


def estimate_size(key: str, value: Any) -> int:
    """Approximate bytes held by an entry: key and value, one level into containers."""
    size = sys.getsizeof(key) + sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in value.items())
    elif isinstance(value, (list, tuple, set, frozenset)):
        size += sum(sys.getsizeof(v) for v in value)
    return size


class L1Cache:
    """LRU + TTL map. ``clock`` is injectable so tests can expire entries without sleeping."""

    def __init__(self, max_size: int, clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1, got {max_size}")
        self.max_size = max_size
        self.clock = clock
        # key -> [value, expires_at, size_bytes, warm_state]
        self._data: OrderedDict[str, list] = OrderedDict()
        self.memory_bytes = 0
        self.evictions = 0
        self.expirations = 0
        self.warmed_loaded = 0
        self.warmed_read = 0
        self.warmed_unread_dropped = 0
        self.on_evict: Callable[[int], None] | None = None

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: str) -> bool:
        entry = self._data.get(key)
        return entry is not None and entry[1] > self.clock()

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
        if entry[1] <= self.clock():
            self._drop(key, entry)
            self.expirations += 1
            return MISS
        data.move_to_end(key)
        if entry[3]:
            entry[3] = 0
            self.warmed_read += 1
        return entry[0]

    def set(self, key: str, value: Any, ttl: float, warmed: bool = False) -> None:
        size = estimate_size(key, value)
        data = self._data
        old = data.pop(key, None)
        if old is not None:
            self.memory_bytes -= old[2]
            if old[3]:
                # Overwritten before it was read: the warming did not pay off.
                self.warmed_unread_dropped += 1
        data[key] = [value, self.clock() + ttl, size, _WARM_UNREAD if warmed else 0]
        self.memory_bytes += size
        if warmed:
            self.warmed_loaded += 1
        evicted = 0
        while len(data) > self.max_size:
            k, e = data.popitem(last=False)
            self.memory_bytes -= e[2]
            if e[3]:
                self.warmed_unread_dropped += 1
            evicted += 1
        if evicted:
            self.evictions += evicted
            if self.on_evict is not None:
                self.on_evict(evicted)

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
        self.memory_bytes -= entry[2]
        if entry[3]:
            self.warmed_unread_dropped += 1
