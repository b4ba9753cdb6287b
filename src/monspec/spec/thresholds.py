"""The guide's compact threshold notation (">0.90", "<0.001", "70-90%", "==0") as typed values."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from monspec.spec.durations import short

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_COMPARE = re.compile(rf"^\s*(>=|<=|==|!=|>|<)?\s*({_NUMBER})\s*(%)?\s*$")
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*(%)?\s*-\s*({_NUMBER})\s*(%)?\s*$")

OPPOSITE = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}


def format_number(value: float) -> str:
    """Shortest exact text for a threshold: 0.7, 20, 0.001."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


@dataclass(frozen=True)
class Threshold:
    """`value op threshold` is true in this zone: `<0.70` holds for values below 0.70."""

    op: str
    value: float

    def holds(self, x: float) -> bool:
        return {
            ">": x > self.value, ">=": x >= self.value, "<": x < self.value,
            "<=": x <= self.value, "==": x == self.value, "!=": x != self.value,
        }[self.op]

    @property
    def direction(self) -> str | None:
        """"low" when small values are in the zone, "high" when large ones are."""
        return {"<": "low", "<=": "low", ">": "high", ">=": "high"}.get(self.op)

    def promql(self) -> str:
        return f"{self.op} {format_number(self.value)}"

    def __str__(self) -> str:
        return f"{self.op}{format_number(self.value)}"


@dataclass(frozen=True)
class Range:
    """A healthy band such as the guide's "70-90%": low <= value <= high."""

    low: float
    high: float

    def holds(self, x: float) -> bool:
        return self.low <= x <= self.high

    @property
    def direction(self) -> None:
        return None

    def __str__(self) -> str:
        return f"{format_number(self.low)}-{format_number(self.high)}"


def _finite(number: object, raw: object) -> float:
    """A threshold's number as a float; infinities, NaN and numbers beyond a float's range are errors
    (an alert on `> inf` could never fire)."""
    bounds = "use a number between -1e300 and 1e300"
    try:
        value = float(number)  # type: ignore[arg-type]
    except OverflowError:  # a whole number beyond a float's range
        raise ValueError(f"threshold {short(raw, 24)} is too large: {bounds}") from None
    if not math.isfinite(value):
        raise ValueError(f"threshold {short(raw, 24)} is not a finite number: {bounds}")
    if abs(value) > 1e300:
        raise ValueError(f"threshold {short(raw, 24)} is too large: {bounds}")
    return value


def _bare(text: str) -> ValueError:
    """A number without a comparison: `warning: 0.5` once meant `== 0.5`, an alert that never fires.
    Which side is bad is the spec's to say, so the error names both readings."""
    return ValueError(
        f"threshold {text!r} has no comparison: write \">{text}\" when higher is worse "
        f"or \"<{text}\" when lower is worse (\"=={text}\" only if exactly that value is meant)")


def parse_threshold(raw: object) -> Threshold | Range:
    """Parse a threshold: an operator and a number, or a band; a trailing % divides by 100.
    A bare number is an error: a threshold states its comparison."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"expected a threshold such as \">0.90\", \"<0.001\" or \"70-90%\", got {type(raw).__name__}")
    if isinstance(raw, (int, float)):
        raise _bare(format_number(_finite(raw, raw)))
    match = _COMPARE.match(raw)
    if match:
        op, number, percent = match.groups()
        if op is None:
            raise _bare(raw.strip())
        value = _finite(number, raw) / (100 if percent else 1)
        return Threshold(op, value)
    match = _RANGE.match(raw)
    if match:
        low, low_pct, high, high_pct = match.groups()
        scale = 100 if (low_pct or high_pct) else 1
        lo, hi = _finite(low, raw) / scale, _finite(high, raw) / scale
        if lo > hi:
            raise ValueError(f"range {raw!r} has its low end above its high end")
        return Range(lo, hi)
    raise ValueError(
        f"cannot read threshold {raw!r}: write an operator and a number (\">0.90\", \"<0.001\", \"==0\") "
        "or a band (\"70-90%\"); put words such as \"per cycle\" in the KPI's `unit` or `description`"
    )
