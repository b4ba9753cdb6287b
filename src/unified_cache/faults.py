"""Faults a running manager can be told to have, for live alert tests and SLO drills.

``ucm fault --port PORT errors=0.2 db_errors=1 l1_delay_ms=20 l1_size=10`` (or ``clear``) posts
to the ``/fault`` endpoint that ``ucm demo`` serves beside ``/metrics``. Injected errors make
``get_cached`` raise :class:`InjectedFault` before the lookup and are counted as
``unified_cache_operations_total{cache_level="l1",status="error"}``. ``db_errors`` fails that
share of database (L3) calls the way an unreachable database does: as ``DatabaseError``,
counted in ``unified_database_connection_errors_total``, so writes fail and a get that reaches
L3 fails there (``cache_level="l3",status="error"``) while gets L1 or L2 answer go on. The L1
delay is spent inside the timed L1 lookup, so it shows in the L1 duration histogram;
``l1_size`` shrinks (or restores) the L1 capacity.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from .errors import UnifiedCacheError

SETTINGS = ("errors", "db_errors", "l1_delay_ms", "l1_size")
SHARES = ("errors", "db_errors")  # settings that are a share of calls, between 0 and 1


class InjectedFault(UnifiedCacheError):
    """An error injected on purpose by the fault switch."""


@dataclass
class Faults:
    errors: float = 0.0  # share of gets that raise InjectedFault
    db_errors: float = 0.0  # share of database calls that fail
    l1_delay_ms: float = 0.0  # added to every L1 lookup
    active: bool = False  # a plain attribute: the L1 hit path reads it on every get
    random: random.Random = field(default_factory=random.Random, repr=False)

    def set(self, errors: float | None = None, l1_delay_ms: float | None = None, db_errors: float | None = None) -> None:
        if errors is not None:
            self.errors = float(errors)
        if db_errors is not None:
            self.db_errors = float(db_errors)
        if l1_delay_ms is not None:
            self.l1_delay_ms = float(l1_delay_ms)
        self.active = self.errors > 0 or self.l1_delay_ms > 0

    def database_fails(self) -> bool:
        """Whether this database call fails (asked by L3 before each call)."""
        return self.db_errors > 0 and self.random.random() < self.db_errors

    def as_dict(self) -> dict:
        return {"errors": self.errors, "db_errors": self.db_errors, "l1_delay_ms": self.l1_delay_ms}


def parse_settings(pairs: list[str]) -> dict[str, float | int | None]:
    """``["errors=0.2", "l1_size=10"]`` -> {"errors": 0.2, "l1_size": 10}; ``["clear"]`` resets
    everything (``l1_size`` None: back to the configured size). ValueError names the bad pair."""
    settings: dict[str, float | int | None] = {}
    for pair in pairs:
        if pair == "clear":
            settings.update(errors=0.0, db_errors=0.0, l1_delay_ms=0.0, l1_size=None)
            continue
        name, sep, raw = pair.partition("=")
        if not sep or name not in SETTINGS:
            raise ValueError(f"{pair!r}: expected one of {', '.join(s + '=VALUE' for s in SETTINGS)} or clear")
        try:
            value = int(raw) if name == "l1_size" else float(raw)
        except ValueError:
            raise ValueError(f"{pair!r}: {raw!r} is not a number") from None
        if name in SHARES and not 0 <= value <= 1:
            raise ValueError(f"{pair!r}: {name} is a share between 0 and 1")
        if value < 0 or (name == "l1_size" and value < 1):
            raise ValueError(f"{pair!r}: must be positive")
        settings[name] = value
    return settings
