"""Service level objectives as specs: an SLI, an objective over a window, burn-rate alerts.

A complete example (`specs/slos.yaml`, or an `slos:` section in any spec file):

```yaml
slos:
  checkout_availability:
    description: Checkout requests that do not fail.
    objective: 99.9            # percent of good events, strictly between 0 and 100
    window: 30d                # 30d (default), 28d or 7d
    owner: payments-team       # an `owner` label on the SLO's alerts
    labels: {tier: "1"}        # on every SLO rule
    sli:
      ratio:                   # counters; `errors` or `good`, and `total`
        errors: http_requests_total{code=~"5.."}
        total: http_requests_total
      # latency: {histogram: http_request_duration_seconds, le: 0.25}   # good = bucket <= le
      # raw: {error_ratio: "sum(rate(a[{{.window}}])) / sum(rate(b[{{.window}}]))"}
    alerting:                  # page and ticket on by default, the SRE workbook's pairs
      page:
        labels: {severity: critical}           # the default; routed like any alert
        windows:                               # the default pairs, overridable
          - {long: 1h, short: 5m, factor: 14.4, for: 2m}
          - {long: 6h, short: 30m, factor: 6, for: 15m}
      ticket:
        disable: false
```

`monspec.model.objective` turns each SLO into its recording rules and alerts; lint
(`monspec.lint.slos`) checks it against the catalog and the project's intervals.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from monspec.spec.base import LABEL_NAME, Duration, LintConfig, Located, Placed
from monspec.spec.durations import parse_duration

SLO_WINDOWS = ("30d", "28d", "7d")
WINDOW_TEMPLATE = re.compile(r"\{\{\s*\.window\s*\}\}")


class RatioSli(Placed):
    """Events from counters: bad (`errors`) or `good` ones out of `total`."""

    errors: str | None = Field(None, description="Selector of the counter(s) of failed events, e.g. `http_requests_total{code=~\"5..\"}`.")
    good: str | None = Field(None, description="Selector of the counter(s) of good events (instead of `errors`).")
    total: str = Field(min_length=1, description="Selector of the counter(s) of all events.")

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.errors is None) == (self.good is None):
            raise ValueError("give exactly one of `errors` or `good`, with `total`")
        return self


class LatencySli(Placed):
    """Good events are those at or under `le` seconds in a histogram."""

    histogram: str = Field(min_length=1, description="Histogram name (without `_bucket`), optionally with label matchers.")
    le: float = Field(gt=0, description="Threshold in seconds: one of the histogram's bucket bounds.")


class RawSli(Placed):
    """Any error-ratio query; `{{.window}}` stands for each window's range (Sloth's form)."""

    error_ratio: str = Field(min_length=1, description="PromQL of the error ratio (0..1) with `[{{.window}}]` ranges.")

    @field_validator("error_ratio")
    @classmethod
    def _window(cls, value: str) -> str:
        if not WINDOW_TEMPLATE.search(value):
            raise ValueError("the query needs `{{.window}}` where each window's range goes, e.g. `rate(x[{{.window}}])`")
        return value


class Sli(Placed):
    ratio: RatioSli | None = None
    latency: LatencySli | None = None
    raw: RawSli | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        if sum(kind is not None for kind in (self.ratio, self.latency, self.raw)) != 1:
            raise ValueError("give exactly one SLI kind: `ratio`, `latency` or `raw`")
        return self


class BurnWindow(Placed):
    """One multi-window burn-rate condition: the error ratio above factor x budget over both windows."""

    long: Duration
    short: Duration
    factor: float = Field(gt=0, description="Burn rate: how many times faster than the objective allows.")
    for_: Duration = Field("0s", alias="for")
    name: str | None = Field(None, description="Alert name; default: the SLO's alert name, severity and long window.")

    @model_validator(mode="after")
    def _order(self):
        if parse_duration(self.short) >= parse_duration(self.long):
            raise ValueError(f"the short window ({self.short}) must be shorter than the long one ({self.long})")
        return self


PAGE_WINDOWS = (("1h", "5m", 14.4, "2m"), ("6h", "30m", 6.0, "15m"))
TICKET_WINDOWS = (("1d", "2h", 3.0, "1h"), ("3d", "6h", 1.0, "3h"))


def _windows(pairs) -> list[BurnWindow]:
    return [BurnWindow(long=long, short=short, factor=factor, **{"for": for_}) for long, short, factor, for_ in pairs]


class Severity(Placed):
    """Page or ticket alerting of one SLO."""

    disable: bool = False
    windows: list[BurnWindow] = Field(default_factory=list, min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Alerting(Placed):
    name: str | None = Field(None, description="Alert name prefix; default: the SLO's key in CamelCase.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels on every alert of this SLO.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations on every alert of this SLO.")
    page: Severity = Field(default_factory=lambda: Severity(windows=_windows(PAGE_WINDOWS)))
    ticket: Severity = Field(default_factory=lambda: Severity(windows=_windows(TICKET_WINDOWS)))

    @model_validator(mode="before")
    @classmethod
    def _default_windows(cls, data: Any) -> Any:
        """A severity given without `windows` keeps the workbook's pairs."""
        if isinstance(data, dict):
            data = dict(data)
            for key, pairs in (("page", PAGE_WINDOWS), ("ticket", TICKET_WINDOWS)):
                if isinstance(data.get(key), dict) and "windows" not in data[key]:
                    data[key] = {**data[key], "windows": [
                        {"long": long, "short": short, "factor": factor, "for": for_} for long, short, factor, for_ in pairs]}
        return data


class Slo(Located):
    description: str = Field(min_length=1)
    title: str | None = None
    objective: Decimal = Field(description="Target share of good events in percent, strictly between 0 and 100 (99.9).")
    window: Literal["30d", "28d", "7d"] = Field("30d", description="The SLO (compliance) window.")
    owner: str | None = Field(None, description="Team that owns the SLO; an `owner` label on its alerts.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels on every rule of this SLO.")
    by: list[str] = Field(default_factory=lambda: ["job"], description="Labels the SLI keeps (one SLO series each).")
    sli: Sli
    alerting: Alerting = Field(default_factory=lambda: Alerting.model_validate({}))
    steps: list[str] = Field(default_factory=list, description="Troubleshooting steps for the runbook.")
    lint: LintConfig | None = None

    @field_validator("objective", mode="before")
    @classmethod
    def _objective(cls, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"expected a percentage such as 99.9, found {type(value).__name__}")
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            raise ValueError(f"expected a percentage such as 99.9, got {value!r}") from None
        if not number.is_finite() or not 0 < number < 100:
            raise ValueError(f"the objective is a percentage strictly between 0 and 100, got {value}")
        return number

    @field_validator("labels", "by")
    @classmethod
    def _label_names(cls, value):
        for label in value:
            if not LABEL_NAME.match(label):
                raise ValueError(f"{label!r} is not a valid label name")
        return value

    @property
    def display_title(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    @property
    def budget(self) -> Decimal:
        """The error budget as a ratio: 1 - objective, in exact decimal."""
        return (100 - self.objective) / 100

