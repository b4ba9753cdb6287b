"""Figures of a *running* cache, for `ucm health` and `ucm tune`: read from its ``/metrics``
endpoint (counts since it started) or from Prometheus (rates over the last 5 minutes, across
all scraped instances), as the guide's scripts read the live manager.

Both give a :class:`~unified_cache.stats.CacheStats`, so the guide's checks and output stay
the same whatever the source. What the exposition cannot say is marked: ``warming_enabled``
means "warming cycles have run".
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

from .errors import UnifiedCacheError
from .stats import CacheStats


class SourceError(UnifiedCacheError):
    """The running service or Prometheus could not be read."""


def _get(url: str, timeout: float = 5.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read {url}: {exc}") from None


def _health(master: float | None, replica: float | None) -> str:
    master_up = bool(master)
    if master_up and (replica is None or replica):
        return "healthy"
    return "degraded" if master_up or replica else "emergency"


def _stats(v: dict[str, float], replica: float | None, master: float | None) -> CacheStats:
    total = v["l1_total"]
    l1_misses = v["l1_miss"]
    return CacheStats(
        hit_rate=(v["l1_hit"] + v["l2_hit"]) / total if total else 0.0,
        l1_hits=int(v["l1_hit"]), l2_hits=int(v["l2_hit"]), l3_hits=int(v["l3_hit"]), l3_misses=int(v["l3_miss"]),
        total_requests=int(total),
        l1_hit_rate=v["l1_hit"] / total if total else 0.0,
        l2_hit_rate=v["l2_hit"] / l1_misses if l1_misses else 0.0,
        l1_utilization=v["l1_utilization"], l1_size=int(v["l1_size"]), l1_max_size=int(v["l1_max_size"]),
        l1_memory_bytes=int(v["l1_memory"]), l1_evictions=int(v["l1_evictions"]),
        health_status=_health(master, replica),
        warming_enabled=v["warming_cycles"] > 0, warming_cycles=int(v["warming_cycles"]),
        warming_operations=int(v["warming_operations"]), warming_hit_rate=v["warming_hit_rate"],
        avg_response_time=v["duration_sum"] / total if total else 0.0,
        p95_response_time=0.0,  # not derivable from one scrape's buckets without a rate window
    )


def stats_from_metrics(url: str) -> CacheStats:
    """Stats of one running instance from its ``/metrics`` page."""
    text = _get(url).decode()
    ops: dict[tuple[str, str], float] = defaultdict(float)
    plain: dict[str, float] = {}
    duration_sum = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "unified_cache_operations_total":
                ops[(s.labels["cache_level"], s.labels["status"])] += s.value
            elif s.name == "unified_cache_operation_duration_seconds_sum" and s.labels.get("cache_level") == "l1":
                duration_sum += s.value  # an L1 miss's time is inside the L2/L3 times; L1 spans every get
            elif not s.labels:
                plain[s.name] = s.value
    if "unified_cache_l1_size" not in plain:
        raise SourceError(f"{url} does not serve the unified cache's metrics")
    values = {
        "l1_hit": ops[("l1", "hit")], "l1_miss": ops[("l1", "miss")], "l2_hit": ops[("l2", "hit")],
        "l3_hit": ops[("l3", "hit")], "l3_miss": ops[("l3", "miss")],
        "l1_total": ops[("l1", "hit")] + ops[("l1", "miss")] + ops[("l1", "error")],
        "l1_utilization": plain["unified_cache_l1_utilization"], "l1_size": plain["unified_cache_l1_size"],
        "l1_max_size": plain["unified_cache_l1_max_size"], "l1_memory": plain["unified_cache_l1_memory_usage_bytes"],
        "l1_evictions": plain.get("unified_cache_l1_evictions_total", 0.0),
        "warming_cycles": plain.get("unified_cache_warming_cycles_total", 0.0),
        "warming_operations": plain.get("unified_cache_warming_operations_total", 0.0),
        "warming_hit_rate": plain.get("unified_cache_warming_hit_rate", 0.0),
        "duration_sum": duration_sum,
    }
    return _stats(values, plain.get("unified_redis_replica_connected"), plain.get("unified_redis_master_connected"))


_WINDOW = "5m"
_PROMQL = {
    "l1_hit": 'sum(increase(unified_cache_operations_total{cache_level="l1",status="hit"}[%s]))',
    "l1_miss": 'sum(increase(unified_cache_operations_total{cache_level="l1",status="miss"}[%s]))',
    "l2_hit": 'sum(increase(unified_cache_operations_total{cache_level="l2",status="hit"}[%s]))',
    "l3_hit": 'sum(increase(unified_cache_operations_total{cache_level="l3",status="hit"}[%s]))',
    "l3_miss": 'sum(increase(unified_cache_operations_total{cache_level="l3",status="miss"}[%s]))',
    "l1_total": 'sum(increase(unified_cache_operations_total{cache_level="l1"}[%s]))',
    "l1_evictions": "sum(increase(unified_cache_l1_evictions_total[%s]))",
    "warming_cycles": "sum(increase(unified_cache_warming_cycles_total[%s]))",
    "warming_operations": "sum(increase(unified_cache_warming_operations_total[%s]))",
    "duration_sum": 'sum(increase(unified_cache_operation_duration_seconds_sum{cache_level="l1"}[%s]))',
    "l1_utilization": "max(unified_cache_l1_utilization)",
    "l1_size": "sum(unified_cache_l1_size)",
    "l1_max_size": "sum(unified_cache_l1_max_size)",
    "l1_memory": "sum(unified_cache_l1_memory_usage_bytes)",
    "warming_hit_rate": "avg(unified_cache_warming_hit_rate)",
    "master": "min(unified_redis_master_connected)",
    "replica": "min(unified_redis_replica_connected)",
}


def _query(prometheus: str, expr: str) -> float | None:
    url = f"{prometheus.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    body = json.loads(_get(url))
    if body.get("status") != "success":
        raise SourceError(f"Prometheus refused {expr!r}: {body.get('error')}")
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def stats_from_prometheus(prometheus: str) -> CacheStats:
    """Stats of every instance Prometheus scrapes, over the last 5 minutes."""
    values = {name: _query(prometheus, expr % _WINDOW if "%s" in expr else expr) for name, expr in _PROMQL.items()}
    if values["l1_size"] is None:
        raise SourceError(f"Prometheus at {prometheus} has no unified_cache series (is the cache scraped?)")
    master, replica = values.pop("master"), values.pop("replica")
    return _stats({k: v or 0.0 for k, v in values.items()}, replica, master)


def active_alerts(prometheus: str) -> list[dict]:
    """Pending and firing alerts from Prometheus's ``/api/v1/alerts``."""
    body = json.loads(_get(f"{prometheus.rstrip('/')}/api/v1/alerts"))
    return body.get("data", {}).get("alerts", [])


def alert_lines(alerts: list[dict]) -> list[str]:
    """The guide's "Recent Performance Alerts" lines."""
    shown = sorted(alerts, key=lambda a: (a.get("state") != "firing", a["labels"].get("alertname", "")))
    lines = [
        f"  {'🚨' if a.get('state') == 'firing' else '⏳'} {a['labels'].get('alertname')} "
        f"({a['labels'].get('severity', 'none')}, {a.get('state')} since {a.get('activeAt', '?')})"
        for a in shown
    ]
    if not any(a["labels"].get("severity") == "critical" and a.get("state") == "firing" for a in alerts):
        lines.append("  No critical alerts firing ✅")
    return lines
