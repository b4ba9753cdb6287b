"""`ucm`: the guide's operational tools on the command line.

Thin: parse options, build a config (environment < --profile < flags), call
:mod:`unified_cache.operations` or :mod:`unified_cache.demo`, map outcomes to exit codes
(0 good, 1 a check failed, 2 usage or configuration error).
"""
from __future__ import annotations

import asyncio
import datetime
import functools
import json
import sys

import click

from . import operations as ops
from .config import PROFILES, CacheConfig
from .errors import UnifiedCacheError
from .manager import ManagerMode, UnifiedConnectionManager


def _connection_options(fn):
    @click.option("--redis-url", default=None, help="Redis master (default: $REDIS_URL or redis://127.0.0.1:6379/0).")
    @click.option("--replica-url", default=None, help="Redis replica for reads when the master is down ($REDIS_REPLICA_URL).")
    @click.option("--database-url", default=None, help="sqlite:///path or postgresql://… ($DATABASE_URL; default SQLite in $UCM_DATA_DIR).")
    @click.option("--profile", type=click.Choice(sorted(PROFILES)), default=None, help="A tuning profile from the guide.")
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper



def _config(redis_url, replica_url, database_url, profile, **extra) -> CacheConfig:
    try:
        return CacheConfig.from_env(
            profile=profile, redis_url=redis_url, redis_replica_url=replica_url, database_url=database_url, **extra
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _run(coro):
    try:
        return asyncio.run(coro)
    except UnifiedCacheError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


async def _with_manager(config: CacheConfig, body):
    manager = UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=config)
    await manager.initialize()
    try:
        return await body(manager)
    finally:
        await manager.close()


@click.group()
@click.version_option(package_name="monspec")
def main() -> None:
    """Operate the unified cache (L1 memory, L2 Redis, L3 database)."""


@main.command()
@click.option("--port", type=int, required=True, help="Serve /metrics on 127.0.0.1:PORT (0 picks a free port).")
@_connection_options
@click.option("--keys", type=click.IntRange(min=1), default=2000, show_default=True, help="Distinct keys (zipf popularity).")
@click.option("--l1-size", type=click.IntRange(min=1), default=None, help="L1 capacity (default: profile / $UCM_L1_CACHE_SIZE).")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=500.0, show_default=True, help="Operations per second.")
@click.option("--duration", type=click.FloatRange(min=0), default=60.0, show_default=True, help="Seconds to run; 0 runs until SIGTERM/SIGINT.")
@click.option("--write-ratio", type=click.FloatRange(0, 1), default=0.05, show_default=True, help="Share of operations that are writes.")
@click.option("--warming-interval", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds between warming cycles.")
@click.option("--health-interval", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds between Redis health checks.")
@click.option("--ttl", type=click.IntRange(min=1), default=None, help="Cache TTL in seconds.")
def demo(port, redis_url, replica_url, database_url, profile, keys, l1_size, rate, duration, write_ratio,
         warming_interval, health_interval, ttl):
    """Run a realistic workload and serve its metrics until the duration ends."""
    from .demo import run_demo

    config = _config(
        redis_url, replica_url, database_url, profile,
        l1_cache_size=l1_size, warming_interval=warming_interval, health_check_interval=health_interval,
        cache_ttl_seconds=ttl,
    )
    _run(run_demo(config, port=port, keys=keys, rate=rate, duration=duration, write_ratio=write_ratio,
                  echo=lambda line: click.echo(line) or sys.stdout.flush()))


def _source_options(fn):
    @click.option("--metrics-url", envvar="UCM_METRICS_URL", default=None,
                  help="/metrics of the running cache, e.g. http://127.0.0.1:8000/metrics ($UCM_METRICS_URL).")
    @click.option("--prometheus-url", envvar="PROMETHEUS_URL", default=None,
                  help="Prometheus scraping the cache: last 5 minutes of all instances, and its alerts ($PROMETHEUS_URL).")
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def _running_stats(metrics_url, prometheus_url):
    """Stats of the running service: Prometheus when given (fleet, 5 m), else its /metrics."""
    from . import remote

    if not (metrics_url or prometheus_url):
        raise click.UsageError("say where the running cache is: --metrics-url URL or --prometheus-url URL")
    try:
        if prometheus_url:
            return remote.stats_from_prometheus(prometheus_url)
        return remote.stats_from_metrics(metrics_url)
    except remote.SourceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@main.command()
@_source_options
def health(metrics_url, prometheus_url):
    """The guide's daily check of the running cache; exit 1 when anything needs attention."""
    from . import remote

    stats = _running_stats(metrics_url, prometheus_url)
    ok, lines = ops.health_report(stats)
    click.echo("=== Daily Cache Performance Check ===")
    click.echo(f"Date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    click.echo(f"Source: {prometheus_url or metrics_url}")
    click.echo("Overall Performance: " + lines[0])
    for line in lines[1:4]:
        click.echo(line)
    click.echo("Recent Performance Alerts:")
    if prometheus_url:
        try:
            alert_lines = remote.alert_lines(remote.active_alerts(prometheus_url))
        except remote.SourceError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        ok = ok and not any("🚨" in line for line in alert_lines)
    else:
        alert_lines = ["  unknown: give --prometheus-url to read the alerts"]
    for line in alert_lines:
        click.echo(line)
    for line in lines[4:]:
        click.echo(line)
    click.echo("=== Performance Check Complete ===")
    sys.exit(0 if ok else 1)


@main.command()
@click.option("--iterations", type=click.IntRange(min=1), default=10000, show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None, help="Also write the JSON here.")
@click.option("--keys", type=click.IntRange(min=1), default=None, help="Distinct keys (default 2.5x the L1 size).")
@_connection_options
def benchmark(iterations, output, keys, redis_url, replica_url, database_url, profile):
    """The guide's weekly benchmark: the cache vs the database it fronts; exit 1 on a missed target."""
    config = _config(redis_url, replica_url, database_url, profile, enable_warming=False)
    result = _run(_with_manager(config, lambda m: ops.run_benchmark(m, iterations, keys=keys)))
    for line in ops.benchmark_report(result):
        click.echo(line)
    if output:
        with open(output, "w") as fh:
            json.dump(result, fh, indent=2, sort_keys=True)
            fh.write("\n")
        click.echo(f"results written to {output}")
    sys.exit(0 if result["targets_met"] else 1)


@main.command()
@_connection_options
def regression(redis_url, replica_url, database_url, profile):
    """The guide's regression detector: exit 1 when a threshold is crossed."""
    config = _config(redis_url, replica_url, database_url, profile)
    result = _run(_with_manager(config, lambda m: ops.detect_performance_regression(m, echo=click.echo)))
    click.echo("\n=== Performance Regression Analysis ===")
    click.echo(f"Average Response Time: {result['avg_response_time']:.4f}s")
    click.echo(f"P95 Response Time: {result['p95_response_time']:.4f}s")
    click.echo(f"Cache Hit Rate: {result['hit_rate']:.2%}")
    click.echo(f"Throughput: {result['throughput']:.1f} ops/sec")
    if result["regression_detected"]:
        click.echo("\n⚠️ PERFORMANCE REGRESSION DETECTED:")
        for issue in result["issues"]:
            click.echo(f"  - {issue}")
        sys.exit(1)
    click.echo("\n✅ Performance within expected parameters")
    sys.exit(0)


@main.command()
@_source_options
def tune(metrics_url, prometheus_url):
    """The guide's tuning recommendations for the running cache."""
    stats = _running_stats(metrics_url, prometheus_url)
    recommendations = ops.tuning_recommendations(stats)
    click.echo("=== Performance Tuning Recommendations ===")
    if recommendations:
        for i, rec in enumerate(recommendations, 1):
            click.echo(f"{i}. {rec}")
    else:
        click.echo("No tuning recommendations - performance is optimal")


@main.command()
@click.option("--port", type=int, required=True, help="Port of the running `ucm demo` (its /metrics port).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.argument("settings", nargs=-1, required=False)
def fault(port, host, settings):
    """Inject faults into a running `ucm demo`: errors=SHARE db_errors=SHARE l1_delay_ms=MS l1_size=N, or clear.

    Without settings, prints the current ones.
    """
    import urllib.error
    import urllib.request

    from .faults import parse_settings

    try:
        parse_settings(list(settings))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    query = "&".join(settings)
    url = f"http://{host}:{port}/fault" + (f"?{query}" if query else "")
    request = urllib.request.Request(url, method="POST" if settings else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            click.echo(response.read().decode().strip())
    except (OSError, urllib.error.URLError) as exc:
        click.echo(f"error: cannot reach {url}: {exc}", err=True)
        sys.exit(2)


@main.command("export-metrics")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="CSV file (default cache_metrics_YYYYmmdd_HHMMSS.csv).")
@_connection_options
@click.option("--probe", type=click.IntRange(min=0), default=0, show_default=True,
              help="Reads of a probe workload before the snapshot.")
def export_metrics(output, redis_url, replica_url, database_url, profile, probe):
    """The guide's CSV export of the current figures."""
    config = _config(redis_url, replica_url, database_url, profile)
    filename = output or f"cache_metrics_{datetime.datetime.now().strftime('%Y%m%d_%H%M%S')}.csv"

    async def body(manager):
        await ops.probe(manager, probe)
        return await ops.export_metrics_to_csv(manager, filename)

    _run(_with_manager(config, body))
    click.echo(f"Metrics exported to {filename}")


if __name__ == "__main__":
    main()
