"""Cache warming: access-pattern tracking and the periodic reload of hot keys into L1.

Each read is recorded. Every ``UCM_WARMING_INTERVAL`` seconds a cycle folds the reads of
the past interval into a per-key score (``score = score / 2 + reads in the interval``, so
it approximates reads per interval and forgets old traffic), then (re)loads the keys whose
score exceeds ``UCM_WARMING_THRESHOLD``, hottest first, at most ``UCM_WARMING_BATCH_SIZE``
per cycle, from L2 or L3 into L1 with a fresh TTL. Hot keys already in L1 are refreshed
too (refresh-ahead): they never expire while hot and pick up writes other instances made
to Redis. That is what the guide's "keys warmed per cycle" counts, and why its target
(>50) assumes a full batch. L1 marks loaded entries as warmed and measures how many are
read before they leave or are refreshed again (``unified_cache_warming_hit_rate``).
"""
from __future__ import annotations

import heapq
from operator import itemgetter


class AccessTracker:
    """Counts reads per key, bounded to ``capacity`` keys (the least-read are forgotten)."""

    def __init__(self, capacity: int = 10000) -> None:
        self.capacity = capacity
        self.totals: dict[str, int] = {}
        self.window: dict[str, int] = {}
        self.scores: dict[str, float] = {}

    def record(self, key: str) -> None:
        totals = self.totals
        count = totals.get(key)
        if count is None:
            if len(totals) >= self.capacity:
                self._prune()
                totals = self.totals
            totals[key] = 1
        else:
            totals[key] = count + 1
        window = self.window
        window[key] = window.get(key, 0) + 1

    def roll(self) -> dict[str, float]:
        """Close the current interval and return the updated scores."""
        scores = {k: s / 2 for k, s in self.scores.items() if s >= 0.02}
        for key, n in self.window.items():
            scores[key] = scores.get(key, 0.0) + n
        self.window = {}
        self.scores = scores
        return scores

    def top(self, n: int) -> list[tuple[str, int]]:
        # Called from the metrics HTTP thread: dict.copy() is atomic under the GIL, while
        # iterating the live dict could see it change size.
        return heapq.nlargest(n, self.totals.copy().items(), key=itemgetter(1))

    def _prune(self) -> None:
        keep = dict(heapq.nlargest(self.capacity // 2, self.totals.items(), key=itemgetter(1)))
        self.totals = keep
        self.window = {k: v for k, v in self.window.items() if k in keep}
        self.scores = {k: v for k, v in self.scores.items() if k in keep}


def pick_candidates(scores: dict[str, float], threshold: float, batch_size: int) -> list[str]:
    """Hottest keys above ``threshold``, at most ``batch_size`` (ties: by key, for stable output)."""
    hot = heapq.nsmallest(batch_size, ((-s, k) for k, s in scores.items() if s > threshold))
    return [key for _, key in hot]
