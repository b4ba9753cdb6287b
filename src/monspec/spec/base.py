"""The ground the spec models stand on: units, names, durations, thresholds and located entities.

Nothing here imports another spec module, so every spec module may import it.
"""
from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, WithJsonSchema

from monspec.checks import BY_ID
from monspec.spec.durations import parse_duration
from monspec.spec.thresholds import Range, Threshold, parse_threshold

KNOWN_UNITS = (
    "seconds", "bytes", "ratio", "percent", "operations", "ops", "keys", "entries", "errors",
    "connections", "cycles", "info", "bool", "none",
)
# The unit list is open: another service counts messages or requests. A unit outside KNOWN_UNITS
# renders (values print with `humanize`, dashboards without a unit) and lint warns (catalog/unknown-unit).
Unit = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", json_schema_extra={"examples": list(KNOWN_UNITS)},
                            description="A unit: one of the known ones (see examples) or your own, e.g. messages")]
Severity = Literal["critical", "warning", "info"]
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SNAKE_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
GRAFANA_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def grafana_uid(value: str | None) -> str | None:
    """A Grafana uid (dashboard or folder) as given, or a ValueError that says what one is."""
    if value is not None and not GRAFANA_UID.match(value):
        raise ValueError(f"a Grafana uid is 1-40 letters, digits, `-` or `_`, got {value!r}")
    return value


def _duration(value: Any) -> str:
    parse_duration(value)
    return value


def _label_name(value: str) -> str:
    if not LABEL_NAME.match(value):
        raise ValueError(f"{value[:60]!r} is not a valid label name: use letters, digits and _, not starting with a digit")
    return value


def _group_label(value: str) -> str:
    return value if value == "..." else _label_name(value)


def _interval(value: Any) -> str:
    seconds = parse_duration(value)
    if not 1 <= seconds <= 86400:
        raise ValueError(f"an interval of {value} is outside 1s to 1d")
    return value


def _name(key: str) -> str:
    if not key.strip():
        raise ValueError("an empty name: give it one, such as `p99_latency`")
    return key


def _threshold(value: Any) -> Threshold | Range:
    if isinstance(value, (Threshold, Range)):
        return value
    return parse_threshold(value)


Duration = Annotated[str, BeforeValidator(_duration), WithJsonSchema({
    "type": "string", "pattern": r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$",
    "description": "Prometheus duration such as 30s, 5m, 1h30m"})]
LabelName = Annotated[str, AfterValidator(_label_name)]
# A KPI's, alert's, SLO's, dashboard's or rule group's key: it becomes a label value, an alert name or
# a file name, and an empty one would silently vanish from the series (Prometheus drops empty labels).
Name = Annotated[str, AfterValidator(_name)]
GroupLabel = Annotated[str, AfterValidator(_group_label)]  # Alertmanager's `...` groups by every label
Interval = Annotated[str, BeforeValidator(_interval), WithJsonSchema({
    "type": "string", "pattern": r"^((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?$",
    "description": "How often Prometheus scrapes or evaluates: a duration from 1s to 1d, such as 15s"})]
ThresholdValue = Annotated[Threshold | Range, BeforeValidator(_threshold), WithJsonSchema({
    "type": "string", "pattern": r"^\s*((>=|<=|==|!=|>|<)\s*[-+.\d]+\s*%?|[-+.\d]+\s*%?\s*-\s*[-+.\d]+\s*%?)\s*$",
    "description": "Threshold in the guide's notation: \">0.90\", \"<0.001\", \"==0\", \"70-90%\""})]


class Strict(BaseModel):
    """Unknown fields are errors, so a typo never silently drops a setting."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)


class Placed(Strict):
    """A spec entity that remembers its file and path, so checks can point at it."""

    _source: Any = PrivateAttr(default=None)
    _path: tuple = PrivateAttr(default=())
    _name: str = PrivateAttr(default="")

    @property
    def source(self):
        return self._source

    @property
    def path(self) -> tuple:
        return self._path

    def problem(self, id: str, message: str, *sub: Any, key: bool = False, **kw):
        """A Problem at this entity's field `sub` (or the entity itself)."""
        return self._source.problem(id, message, self._path + tuple(sub), key=key, **kw)

    def position(self, *sub: Any, key: bool = False):
        return self._source.position(self._path + tuple(sub), key=key)


class Located(Placed):
    """A named entity: its name is its key in the section (or its `record`)."""

    @property
    def name(self) -> str:
        return self._name


def _known_check(value: str) -> str:
    if value not in BY_ID:
        close = difflib.get_close_matches(value, sorted(BY_ID), n=1, cutoff=0.6)
        raise ValueError(f"unknown check id `{value}`" + (f", did you mean `{close[0]}`?" if close else
                                                          " (docs/lint.md lists them)"))
    return value


CheckId = Annotated[str, AfterValidator(_known_check)]


class LintConfig(Strict):
    """Turns checks off for one entity, with the reason shown in the docs."""

    disable: list[CheckId]
    reason: str = Field(min_length=1)
