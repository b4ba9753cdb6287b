"""Helpers shared by the unified_cache tests (a uniquely named module, so no clash with
other directories' conftest.py)."""
from __future__ import annotations

import asyncio
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(coro):
    """Run one test body on a fresh event loop (no pytest-asyncio needed)."""
    return asyncio.run(coro)


def sample(registry, name, **labels):
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def ops(registry, level, status):
    return sample(registry, "unified_cache_operations_total", cache_level=level, status=status)
