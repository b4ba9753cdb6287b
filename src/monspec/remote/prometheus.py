"""A running Prometheus, through its HTTP API: instant queries, rules, alerts, metadata.

`verify` is the guide's daily health check generalised: every KPI evaluated against a
live Prometheus and judged by its own thresholds.
"""
from __future__ import annotations

import enum
import json
import math
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from monspec.errors import MonspecError
from monspec.model.components import component_of
from monspec.remote.http import WebError, check_url, one_line, request
from monspec.remote.slo_status import SloReading, read_slos, slo_table
from monspec.spec import SpecSet
from monspec.spec.durations import parse_duration
from monspec.spec.thresholds import Range, Threshold


class PrometheusUnreachable(MonspecError):
    """Prometheus did not answer, or not as Prometheus answers; `verify` reports this as UNKNOWN (exit 3)."""


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 10.0):
        try:
            self.url = check_url(url, "--prometheus", "http://127.0.0.1:9090", insecure=True)  # no token travels to Prometheus
        except WebError as exc:
            raise PrometheusUnreachable(str(exc)) from None
        self.timeout = timeout

    def _get(self, path: str, params: dict | list | None = None) -> Any:
        query = ("?" + urllib.parse.urlencode(params, doseq=True)) if params else ""
        try:
            answer = request(f"{self.url}{path}{query}", headers={"Accept": "application/json"}, timeout=self.timeout)
        except WebError as exc:
            raise PrometheusUnreachable(f"cannot reach Prometheus at {self.url}: {exc}") from None
        try:
            body = json.loads(answer.body)
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
            what = f"HTTP {answer.status}" if answer.status >= 400 else "something that is not Prometheus' JSON"
            raise PrometheusUnreachable(f"Prometheus at {self.url} answered {path} with {what}")
        if body["status"] != "success":
            detail = f"{one_line(body.get('errorType'))}: {one_line(body.get('error'))}"
            if answer.status >= 500:
                raise PrometheusUnreachable(f"Prometheus at {self.url} failed on {path} (HTTP {answer.status}, {detail})")
            raise MonspecError(f"Prometheus rejected {path}: {detail}")
        return body.get("data")

    def _read(self, path: str, read: Callable[[Any], Any], params: dict | list | None = None) -> Any:
        """`read` applied to the answer's data; an answer of another shape makes Prometheus unusable."""
        data = self._get(path, params)
        try:
            return read(data)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise PrometheusUnreachable(f"Prometheus at {self.url} answered {path} in an unexpected shape") from None

    def query(self, expr: str) -> list[tuple[dict[str, str], float]]:
        """Instant query; each sample as (labels, value)."""
        kind, samples = self._read("/api/v1/query", _samples, {"query": expr})
        if samples is None:
            raise MonspecError(f"query returned a {one_line(kind)}, expected an instant vector: {expr}")
        return samples

    def rules(self) -> list[dict]:
        return self._read("/api/v1/rules", lambda d: [dict(r) for g in d["groups"] for r in g["rules"]])

    def alerts(self) -> list[dict]:
        return self._read("/api/v1/alerts", lambda d: [dict(a) for a in d["alerts"]])

    def metadata(self) -> dict[str, list[dict]]:
        return self._read("/api/v1/metadata", dict)

    def metric_names(self, job: str) -> set[str]:
        return self._read("/api/v1/label/__name__/values", lambda d: {str(n) for n in d},
                          [("match[]", f'{{job="{job}"}}')])

    def series(self, match: str) -> list[dict[str, str]]:
        return self._read("/api/v1/series", lambda d: [dict(s) for s in d], [("match[]", match)])

    def targets(self) -> list[dict]:
        """Active scrape targets with their health and last scrape."""
        return self._read("/api/v1/targets", lambda d: [dict(t) for t in d["activeTargets"]], {"state": "active"})


def _samples(data: Any) -> tuple[str, list[tuple[dict[str, str], float]] | None]:
    """(result type, samples) of an instant query; samples None for a type that is not a vector or scalar."""
    kind, result = data["resultType"], data["result"]
    if kind == "scalar":
        return kind, [({}, float(result[1]))]
    if kind == "vector":
        return kind, [({str(k): str(v) for k, v in sample["metric"].items()}, float(sample["value"][1]))
                      for sample in result]
    return str(kind), None


STATUS_ORDER = ("OK", "NO DATA", "WARNING", "CRITICAL")



class VerifyStatus(enum.IntEnum):
    """`monspec verify`'s exit codes, the monitoring-plugin convention (not monspec's ExitCode:
    2 here is CRITICAL, there a usage error)."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3  # Prometheus unreachable

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
    slos: list[SloReading] = field(default_factory=list)

    @property
    def exit_code(self) -> VerifyStatus:
        """Like a monitoring plugin: OK, WARNING (or missing data / metrics), CRITICAL (a target down)."""
        statuses = {r.status for r in self.readings} | {t.status for t in self.targets} | {r.status for r in self.slos}
        if "CRITICAL" in statuses:
            return VerifyStatus.CRITICAL
        if "WARNING" in statuses or "NO DATA" in statuses or self.absent_metrics:
            return VerifyStatus.WARNING
        return VerifyStatus.OK

    def as_json(self) -> str:
        targets = [{**asdict(t), "status": t.status} for t in self.targets]
        return json.dumps({"kpis": [asdict(r) for r in self.readings], "absent_metrics": self.absent_metrics,
                           "targets": targets,
                           "slos": [asdict(r) for r in self.slos], "exit_code": self.exit_code}, indent=2, sort_keys=True)

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
        if self.slos:
            lines += ["", *slo_table(self.slos)]
        counts = {s: sum(r.status == s for r in self.readings) + sum(r.status == s for r in self.slos)
                  for s in STATUS_ORDER}
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
    jobs = specs.project.scrape_jobs
    for kpi in specs.kpis.values():
        component = component_of(specs, kpi)
        job = jobs[component].job if component in jobs else None
        samples: list[tuple[dict[str, str], float | None]] = list(client.query(kpi.expr))
        samples = [(labels, value) for labels, value in samples
                   if labels.get("job") in ({job} if job else {c.job for c in jobs.values()}) or "job" not in labels]
        if not samples:
            samples = [({}, None)]
        for labels, value in sorted(samples, key=lambda s: s[0].get("instance", "")):
            clean = None if value is None or math.isnan(value) else value
            report.readings.append(KpiReading(
                kpi.name, kpi.display_title, labels.get("instance", "-"), clean, judge(kpi, value),
                _text(kpi.target), _text(kpi.warning), _text(kpi.critical)))
    report.slos = read_slos(specs, client)
    report.targets = scrape_readings(client, sorted({comp.job for comp in jobs.values()}))
    # A KPI of a target that is not up is not judged from its last values (rate windows keep them for minutes).
    blind = {t.instance for t in report.targets if t.health != "up"}
    for reading in report.readings:
        if reading.instance in blind:
            reading.status = "NO DATA"
    present = {name: client.metric_names(comp.job) for name, comp in jobs.items()}
    for name, metric in sorted(specs.metrics.items()):
        wanted = f"{name}_count" if metric.type == "histogram" else name
        owner = metric.component or specs.project.default_component
        if wanted not in set().union(*(present[c] for c in ([owner] if owner in present else present))):
            report.absent_metrics.append(name)
    return report
