"""Prometheus durations ("30s", "1h30m") checked and converted to seconds."""
from __future__ import annotations

import math
import re
from functools import lru_cache

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
MAX_SECONDS = 10 * _UNITS["y"]  # a bound that keeps every later stage's arithmetic small
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration; ValueError names the accepted form."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration such as \"5m\" or \"30s\", got {type(text).__name__} {short(text)}")
    return _seconds(text)


@lru_cache(maxsize=4096)  # the model asks for the same few windows and `for`s again and again
def _seconds(text: str) -> float:
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(
            f"invalid duration {short(text)}: use a number and a unit, largest unit first, e.g. \"30s\", \"5m\", \"1h30m\" "
            "(units: ms, s, m, h, d, w, y)"
        )
    seconds = 0.0
    for amount, unit in zip(match.groups(), ("y", "w", "d", "h", "m", "s", "ms"), strict=False):
        if amount:
            seconds += int(amount) * _UNITS[unit] if len(amount) <= 12 else math.inf
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {short(text)} is longer than 10y, the longest monspec accepts")
    return seconds


def short(value: object, width: int = 40) -> str:
    """The value as written, cut to `width` characters: a hostile input never floods a message."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 4] + "…"


def format_duration(seconds: float) -> str:
    """The shortest Prometheus spelling of a duration in seconds."""
    if seconds == 0:
        return "0s"
    out = []
    ms = round(seconds * 1000)
    for unit, size in (("y", 31536000000), ("w", 604800000), ("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)):
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(out)
