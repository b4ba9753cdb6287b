"""The guide's operational procedures as functions: daily health check, regression
detector, tuning recommendations, CSV export and the weekly benchmark.

Thresholds and output are the guide's. The `ucm` commands are thin wrappers around these.
"""
from __future__ import annotations

import csv
import datetime
import json
import statistics
import time
from collections.abc import Callable

from .manager import UnifiedConnectionManager
from .stats import CacheStats
from .workload import ZipfKeys, value_for

PROBE_PREFIX = "ucm:probe:"


async def probe(manager: UnifiedConnectionManager, requests: int, keys: int = 50, seed: int = 7) -> None:
    """A short read-through workload on ``ucm:probe:*`` keys, so a fresh process has
    figures to judge; the probe keys are deleted from every level afterwards."""
    if requests <= 0:
        return
    workload = ZipfKeys(keys, prefix=PROBE_PREFIX, seed=seed)
    for key in workload.draw(requests):
        if await manager.get_cached(key) is None:
            await manager.set_cached(key, value_for(key), ttl=300)
    await manager.delete_many_cached(workload.keys)


def health_report(stats: CacheStats) -> tuple[bool, list[str]]:
    """The guide's morning check: (all good, lines to print)."""
    hit_rate_ok = stats.hit_rate > 0.85
    health_ok = stats.health_status == "healthy"
    utilization_ok = stats.l1_utilization < 0.90
    ok = all([hit_rate_ok, health_ok, utilization_ok])
    lines = [
        "✅ EXCELLENT" if ok else "⚠️ NEEDS ATTENTION",
        f"  Hit Rate: {stats.hit_rate:.2%} {'✅' if hit_rate_ok else '⚠️'}",
        f"  Health: {stats.health_status} {'✅' if health_ok else '❌'}",
        f"  L1 Utilization: {stats.l1_utilization:.2%} {'✅' if utilization_ok else '⚠️'}",
        "Cache Warming Status:",
        f"  Enabled: {stats.warming_enabled} {'✅' if stats.warming_enabled else '⚠️'}",
        f"  Cycles: {stats.warming_cycles}",
        f"  Effectiveness: {stats.warming_hit_rate:.2%}",
    ]
    return ok, lines


async def detect_performance_regression(
    manager: UnifiedConnectionManager, test_keys: int = 1000, iterations: int = 5, echo: Callable = print
) -> dict:
    """The guide's regression detector (same workload and thresholds)."""
    response_times: list[float] = []
    cache_hits = 0
    for iteration in range(iterations):
        start_time = time.time()
        for i in range(test_keys):
            key = f"perf_test_{i % 100}"
            get_start = time.time()
            result = await manager.get_cached(key)
            response_times.append(time.time() - get_start)
            if result is not None:
                cache_hits += 1
            else:
                await manager.set_cached(key, f"test_data_{i}", ttl=3600)
        iteration_time = time.time() - start_time
        echo(
            f"Iteration {iteration + 1}: {iteration_time:.2f}s, "
            f"avg response: {statistics.mean(response_times[-test_keys:]):.4f}s"
        )
    avg_response_time = statistics.mean(response_times)
    p95_response_time = statistics.quantiles(response_times, n=20)[18]
    hit_rate = cache_hits / (test_keys * iterations)
    total = sum(response_times)
    throughput = (test_keys * iterations) / total if total > 0 else float("inf")
    result = {
        "avg_response_time": avg_response_time,
        "p95_response_time": p95_response_time,
        "hit_rate": hit_rate,
        "throughput": throughput,
        "regression_detected": False,
        "issues": [],
    }
    checks = [
        (avg_response_time > 0.010, f"Average response time too high: {avg_response_time:.4f}s"),
        (p95_response_time > 0.050, f"P95 response time too high: {p95_response_time:.4f}s"),
        (hit_rate < 0.80, f"Cache hit rate too low: {hit_rate:.2%}"),
        (throughput < 100, f"Throughput too low: {throughput:.1f} ops/sec"),
    ]
    for failed, issue in checks:
        if failed:
            result["regression_detected"] = True
            result["issues"].append(issue)
    return result


def tuning_recommendations(stats: CacheStats) -> list[str]:
    """The guide's dynamic tuning rules."""
    recommendations = []
    if stats.hit_rate < 0.85:
        if stats.l1_utilization < 0.70:
            recommendations.append("Increase L1 cache size to improve hit rate")
        if stats.warming_enabled and stats.warming_hit_rate < 0.80:
            recommendations.append("Increase cache warming aggressiveness")
    if stats.avg_response_time > 0.010:
        if stats.l1_utilization > 0.95:
            recommendations.append("L1 cache oversized - reduce size to improve GC performance")
        else:
            recommendations.append("Investigate slow cache operations")
    if stats.l1_utilization > 0.95:
        recommendations.append("L1 cache at capacity - consider increasing size or reducing TTL")
    elif stats.l1_utilization < 0.50:
        recommendations.append("L1 cache underutilized - consider reducing size to save memory")
    return recommendations


CSV_COLUMNS = [
    "timestamp", "hit_rate", "l1_hits", "l2_hits", "l3_hits", "total_requests", "l1_utilization", "l1_size",
    "cache_health", "warming_enabled", "warming_cycles", "warming_hit_rate", "redis_master_connected",
    "redis_replica_connected", "active_db_connections", "pool_utilization",
]


async def export_metrics_to_csv(manager: UnifiedConnectionManager, filename: str) -> dict:
    """The guide's CSV export: one header row and one row of current figures."""
    stats = await manager.get_cache_stats()
    conn = manager.get_connection_metrics()
    row = {
        "timestamp": datetime.datetime.now().isoformat(),
        "hit_rate": stats.hit_rate,
        "l1_hits": stats.l1_hits,
        "l2_hits": stats.l2_hits,
        "l3_hits": stats.l3_hits,
        "total_requests": stats.total_requests,
        "l1_utilization": stats.l1_utilization,
        "l1_size": stats.l1_size,
        "cache_health": stats.health_status,
        "warming_enabled": stats.warming_enabled,
        "warming_cycles": stats.warming_cycles,
        "warming_hit_rate": stats.warming_hit_rate,
        "redis_master_connected": conn.redis_master_connected,
        "redis_replica_connected": conn.redis_replica_connected,
        "active_db_connections": conn.active_connections,
        "pool_utilization": conn.pool_utilization,
    }
    with open(filename, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerow(row)
    return row


#: The guide's weekly benchmark targets ("Target: ≥8x", "≥8x", "≥5x") and its headline figure.
GUIDE_TARGETS = {"throughput": 8.0, "response_time": 8.0}
GUIDE_HEADLINE = 8.4
#: The guide's hit-rate target is a ratio against a cache-less baseline whose hit rate is 0
#: (undefined); the benchmark judges the guide's overall hit-rate target (>90%) instead.
HIT_RATE_TARGET = 0.90


def _latency_summary(times: list[float], hit_rate: float) -> dict:
    ordered = sorted(times)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    total = sum(times)
    return {
        "operations": len(times),
        "throughput_rps": len(times) / total if total > 0 else 0.0,
        "response_times_ms": {
            "mean": statistics.fmean(times) * 1000,
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
        },
        "overall_hit_rate": hit_rate,
    }


async def run_benchmark(manager: UnifiedConnectionManager, iterations: int, keys: int | None = None,
                        seed: int = 42) -> dict:
    """The weekly benchmark, honest edition: one zipf read sequence served three ways, one
    reader at a time, per-read times summed (throughput = reads / time spent reading):

    - ``enhanced_performance``: ``await manager.get_cached(key)`` (L1, then Redis, then L3);
    - ``baseline_performance``: the database the cache fronts, called as an application
      without the cache would: one connection, in the calling thread (SQLite in-process,
      PostgreSQL over loopback), plus the JSON decoding the manager also does;
    - ``thread_pool_hop``: the same database read through the library's L3 pool, so the
      cost of the hop to a worker thread shows apart from the database's own.

    Keys default to 2.5x the L1 capacity, so L1 cannot simply hold everything. Every key is
    stored first; one unmeasured pass brings the caches to steady state.
    """
    if iterations < 1:
        raise ValueError("iterations must be >= 1")
    perf = time.perf_counter
    n_keys = keys or max(10, int(manager.config.l1_cache_size * 2.5))
    workload = ZipfKeys(n_keys, s=1.2, prefix="ucm:bench:", seed=seed)
    await manager.set_many_cached({key: value_for(key) for key in workload.keys})
    manager.l1.clear()
    for key in workload.draw(iterations):  # warm-up, not measured
        await manager.get_cached(key)
    sequence = workload.draw(iterations)

    before = (manager.l1_hits, manager.l2_hits, manager.total_requests)
    times = []
    for key in sequence:
        t = perf()
        await manager.get_cached(key)
        times.append(perf() - t)
    l1_hits = manager.l1_hits - before[0]
    l2_hits = manager.l2_hits - before[1]
    total = manager.total_requests - before[2]
    enhanced = _latency_summary(times, (l1_hits + l2_hits) / total)
    enhanced["l1_hit_rate"] = l1_hits / total
    enhanced["l2_hit_rate"] = l2_hits / (total - l1_hits) if total > l1_hits else 0.0

    db = manager.l3
    conn, sql = db.connect(), db.select_value_sql()
    direct = []
    try:
        for key in sequence:
            t = perf()
            cur = conn.cursor()
            cur.execute(sql, (key,))
            json.loads(bytes(cur.fetchone()[0]))
            cur.close()
            direct.append(perf() - t)
    finally:
        conn.close()
    baseline = _latency_summary(direct, 0.0)

    hop = []
    for key in sequence:
        t = perf()
        json.loads((await db.get(key))[0])
        hop.append(perf() - t)
    pooled = _latency_summary(hop, 0.0)

    await manager.delete_many_cached(workload.keys)
    improvement = {
        "throughput": enhanced["throughput_rps"] / baseline["throughput_rps"],
        "response_time": baseline["response_times_ms"]["mean"] / enhanced["response_times_ms"]["mean"],
        "vs_thread_pool_hop": pooled["response_times_ms"]["mean"] / enhanced["response_times_ms"]["mean"],
    }
    met = (improvement["throughput"] >= GUIDE_TARGETS["throughput"]
           and improvement["response_time"] >= GUIDE_TARGETS["response_time"]
           and enhanced["overall_hit_rate"] >= HIT_RATE_TARGET)
    return {
        "timestamp": datetime.datetime.now().isoformat(),
        "iterations": iterations,
        "workload": {
            "keys": n_keys,
            "zipf_s": workload.s,
            "expected_top_l1_share": round(workload.share_of_top(manager.config.l1_cache_size), 4),
            "l1_cache_size": manager.config.l1_cache_size,
            "redis_health": manager.health_status,
            "database": db.description,
        },
        "enhanced_performance": enhanced,
        "baseline_performance": baseline,
        "thread_pool_hop": pooled,
        "improvement": improvement,
        "targets": {**GUIDE_TARGETS, "overall_hit_rate": HIT_RATE_TARGET, "guide_headline": GUIDE_HEADLINE},
        "targets_met": met,
    }


def benchmark_report(result: dict) -> list[str]:
    """The guide's benchmark analysis lines, with the measured figures beside its claims."""
    cur, base, hop = result["enhanced_performance"], result["baseline_performance"], result["thread_pool_hop"]
    imp = result["improvement"]
    ms = lambda perf: perf["response_times_ms"]  # noqa: E731
    return [
        "Performance Benchmark Results:",
        f"  Cache:                 {cur['throughput_rps']:.0f} ops/s, mean {ms(cur)['mean']:.4f} ms, "
        f"p50 {ms(cur)['p50']:.4f} ms, p99 {ms(cur)['p99']:.4f} ms, hit rate {cur['overall_hit_rate']:.2%} "
        f"(L1 {cur['l1_hit_rate']:.2%})",
        f"  Database alone:        {base['throughput_rps']:.0f} ops/s, mean {ms(base)['mean']:.4f} ms "
        f"({result['workload']['database']}, calling thread)",
        f"  Database via L3 pool:  {hop['throughput_rps']:.0f} ops/s, mean {ms(hop)['mean']:.4f} ms "
        "(thread-pool hop included)",
        f"  Throughput Improvement: {imp['throughput']:.1f}x (Target: ≥8x; the guide claims {GUIDE_HEADLINE}x)",
        f"  Response Time Improvement: {imp['response_time']:.1f}x (Target: ≥8x)",
        f"  Hit Rate: {cur['overall_hit_rate']:.2%} (Target: >90%; the guide's ≥5x is undefined against "
        "a database with no hits)",
        f"  Overall Assessment: {'✅ TARGETS MET' if result['targets_met'] else '⚠️ PERFORMANCE DEGRADATION'}",
    ]
