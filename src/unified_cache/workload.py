"""Zipf-like key popularity, shared by the demo, the probes of `ucm health` / `ucm tune`
and the benchmark: a few keys take most reads, as in real caches."""
from __future__ import annotations

import random
from itertools import accumulate


class ZipfKeys:
    """Draws ``prefix + rank`` with probability proportional to ``1 / (rank + 1) ** s``."""

    def __init__(self, n: int, s: float = 1.1, prefix: str = "key:", seed: int | None = None) -> None:
        if n < 1:
            raise ValueError(f"need at least one key, got {n}")
        self.n, self.s, self.prefix = n, s, prefix
        self.keys = [f"{prefix}{i}" for i in range(n)]
        self._cum = list(accumulate(1.0 / (i + 1) ** s for i in range(n)))
        self.random = random.Random(seed)

    def draw(self, k: int = 1) -> list[str]:
        return self.random.choices(self.keys, cum_weights=self._cum, k=k)

    def share_of_top(self, m: int) -> float:
        """Expected share of draws that hit the ``m`` most popular keys."""
        m = max(0, min(m, self.n))
        return self._cum[m - 1] / self._cum[-1] if m else 0.0


def value_for(key: str, version: int = 0) -> dict:
    """A small realistic record for ``key`` (what an application would cache)."""
    return {"key": key, "version": version, "payload": "x" * 64}
