"""A running Prometheus, through its HTTP API: instant queries, rules, alerts, metadata.

`verify` is the guide's daily health check generalised: every KPI evaluated against a
live Prometheus and judged by its own thresholds.
"""
from __future__ import annotations

import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from monspec.errors import MonspecError
from monspec.spec import SpecSet
from monspec.spec.durations import parse_duration
from monspec.spec.thresholds import Range, Threshold


class PrometheusUnreachable(MonspecError):
    """Prometheus did not answer; `verify` reports this as UNKNOWN."""


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict | list | None = None) -> Any:
        query = ("?" + urllib.parse.urlencode(params, doseq=True)) if params else ""
        try:
            with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=self.timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            try:
                body = json.load(exc)
            except ValueError:
                raise PrometheusUnreachable(f"Prometheus at {self.url} answered HTTP {exc.code} for {path}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusUnreachable(f"cannot reach Prometheus at {self.url}: {reason}") from None
        if body.get("status") != "success":
            raise MonspecError(f"Prometheus rejected {path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[tuple[dict[str, str], float]]:
        """Instant query; each sample as (labels, value)."""
        data = self._get("/api/v1/query", {"query": expr})
        kind, result = data["resultType"], data["result"]
        if kind == "scalar":
            return [({}, float(result[1]))]
        if kind == "vector":
            return [(sample["metric"], float(sample["value"][1])) for sample in result]
        raise MonspecError(f"query returned a {kind}, expected an instant vector: {expr}")

    def rules(self) -> list[dict]:
        return [rule for group in self._get("/api/v1/rules")["groups"] for rule in group["rules"]]

    def alerts(self) -> list[dict]:
        return self._get("/api/v1/alerts")["alerts"]

    def metadata(self) -> dict[str, list[dict]]:
        return self._get("/api/v1/metadata")

    def metric_names(self, job: str) -> set[str]:
        return set(self._get("/api/v1/label/__name__/values", [("match[]", f'{{job="{job}"}}')]))

    def series(self, match: str) -> list[dict[str, str]]:
        return self._get("/api/v1/series", [("match[]", match)])

    def targets(self) -> list[dict]:
        """Active scrape targets with their health and last scrape."""
        return self._get("/api/v1/targets", {"state": "active"})["activeTargets"]


STATUS_ORDER = ("OK", "NO DATA", "WARNING", "CRITICAL")


@dataclass
class KpiReading:
    kpi: str
    title: str
    instance: str
    value: float | None
    status: str
    target: str
    warning: str
    critical: str


@dataclass
class TargetReading:
    """One scrape target of a job: `up` only when its last scrape succeeded recently."""

    job: str
    instance: str
    health: str  # up | down | stale | missing (the job has no target at all)
    last_scrape_seconds_ago: float | None
    error: str

    @property
    def status(self) -> str:
        return "OK" if self.health == "up" else "CRITICAL"


@dataclass
class VerifyReport:
    readings: list[KpiReading] = field(default_factory=list)
    absent_metrics: list[str] = field(default_factory=list)
    targets: list[TargetReading] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """Like a monitoring plugin: 0 OK, 1 WARNING (or missing data / metrics), 2 CRITICAL."""
        statuses = {r.status for r in self.readings} | {t.status for t in self.targets}
        if "CRITICAL" in statuses:
            return 2
        if "WARNING" in statuses or "NO DATA" in statuses or self.absent_metrics:
            return 1
        return 0

    def as_json(self) -> str:
        targets = [{**asdict(t), "status": t.status} for t in self.targets]
        return json.dumps({"kpis": [asdict(r) for r in self.readings], "absent_metrics": self.absent_metrics,
                           "targets": targets, "exit_code": self.exit_code}, indent=2, sort_keys=True)

    def as_table(self) -> str:
        rows = [("KPI", "INSTANCE", "VALUE", "STATUS", "TARGET", "WARNING", "CRITICAL")]
        for r in self.readings:
            value = "-" if r.value is None else f"{r.value:.6g}"
            rows.append((r.kpi, r.instance, value, r.status, r.target, r.warning, r.critical))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows]
        lines += ["", *self.targets_table()]
        if self.absent_metrics:
            lines.append("")
            lines.append("catalog metrics absent from Prometheus: " + ", ".join(self.absent_metrics))
        counts = {s: sum(r.status == s for r in self.readings) for s in STATUS_ORDER}
        lines.append("")
        lines.append(", ".join(f"{n} {s}" for s, n in counts.items()) + f"; {len(self.absent_metrics)} absent metrics")
        return "\n".join(lines)


    def targets_table(self) -> list[str]:
        """Which targets of each job are up: `JOB: n/m targets up`, then each target."""
        lines = []
        for job in sorted({t.job for t in self.targets}):
            mine = [t for t in self.targets if t.job == job]
            up = sum(t.health == "up" for t in mine)
            total = sum(t.health != "missing" for t in mine)
            lines.append(f"job {job}: {up}/{total} targets up")
            for t in mine:
                age = "" if t.last_scrape_seconds_ago is None else f" (last scrape {t.last_scrape_seconds_ago:.0f}s ago)"
                error = f": {t.error}" if t.error else ""
                lines.append(f"  {t.instance}  {t.health.upper()}  {t.status}{age}{error}")
        return lines


def _text(threshold) -> str:
    return "-" if threshold is None else str(threshold)


def judge(kpi, value: float | None) -> str:
    """OK / WARNING / CRITICAL by the KPI's own thresholds; NO DATA when empty or NaN."""
    if value is None or math.isnan(value):
        return "OK" if kpi.empty_when_healthy else "NO DATA"
    for level, status in (("critical", "CRITICAL"), ("warning", "WARNING")):
        threshold = getattr(kpi, level)
        if isinstance(threshold, (Threshold, Range)) and threshold.holds(value):
            return status
    return "OK"


def scrape_readings(client: PrometheusClient, jobs: list[str], now: float | None = None) -> list[TargetReading]:
    """Each target of `jobs`: down when its last scrape failed, stale when it has not been
    scraped for three intervals, missing when a job has no target at all."""
    now = time.time() if now is None else now
    readings = []
    for job in jobs:
        mine = [t for t in client.targets() if t.get("labels", {}).get("job") == job or t.get("scrapePool") == job]
        if not mine:
            readings.append(TargetReading(job, "-", "missing", None, "no target of this job in Prometheus"))
        for target in sorted(mine, key=lambda t: t.get("labels", {}).get("instance", "")):
            ago = _seconds_since(target.get("lastScrape", ""), now)
            interval = parse_duration(target["scrapeInterval"]) if target.get("scrapeInterval") else 60.0
            health = target.get("health", "unknown")
            if health == "up" and (ago is None or ago > 3 * interval):
                health = "stale"
            elif health != "up":
                health = "down"
            readings.append(TargetReading(job, target.get("labels", {}).get("instance", "-"), health,
                                          None if ago is None else round(ago, 1), target.get("lastError", "")))
    return readings


def _seconds_since(rfc3339: str, now: float) -> float | None:
    """Seconds from a Prometheus timestamp (nanosecond RFC 3339) to `now`; None for never."""
    if not rfc3339 or rfc3339.startswith("0001-"):
        return None
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", rfc3339.replace("Z", "+00:00"))
    return now - datetime.fromisoformat(stamp).timestamp()


def verify(specs: SpecSet, client: PrometheusClient) -> VerifyReport:
    report = VerifyReport()
    job = specs.project.job
    report.targets = scrape_readings(client, [job])
    # A KPI of a target that is not up is not judged from its last values.
    blind = {t.instance for t in report.targets if t.health != "up"}
    for kpi in specs.kpis.values():
        samples: list[tuple[dict[str, str], float | None]] = list(client.query(kpi.expr))
        samples = [(labels, value) for labels, value in samples if labels.get("job", job) == job]
        if not samples:
            samples = [({}, None)]
        for labels, value in sorted(samples, key=lambda s: s[0].get("instance", "")):
            clean = None if value is None or math.isnan(value) else value
            status = "NO DATA" if labels.get("instance") in blind else judge(kpi, value)
            report.readings.append(KpiReading(
                kpi.name, kpi.display_title, labels.get("instance", "-"), clean, status,
                _text(kpi.target), _text(kpi.warning), _text(kpi.critical)))
    present = client.metric_names(job)
    for name, metric in sorted(specs.metrics.items()):
        wanted = f"{name}_count" if metric.type == "histogram" else name
        if wanted not in present:
            report.absent_metrics.append(name)
    return report
