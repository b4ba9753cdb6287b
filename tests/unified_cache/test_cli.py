"""Each `ucm` command, in-process through click's CliRunner or as a real process (demo)."""
from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest
import yaml
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from ucm_helpers import REPO

from unified_cache import UnifiedConnectionManager
from unified_cache import operations as ops
from unified_cache.cli import main

CATALOG = yaml.safe_load((REPO / "specs" / "catalog.yaml").read_text())["metrics"]


@pytest.fixture
def env(redis_pair, tmp_path):
    master, replica = redis_pair
    return {
        "REDIS_URL": master.url,
        "REDIS_REPLICA_URL": replica.url,
        "UCM_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "UCM_PROFILE": "",
    }


def invoke(args, env):
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result


def test_benchmark_compares_with_the_database_and_gives_the_guide_verdict(env, tmp_path):
    out = tmp_path / "bench.json"
    result = invoke(["benchmark", "--iterations", "2000", "--output", str(out)], env)
    data = json.loads(out.read_text())
    assert result.exit_code == (0 if data["targets_met"] else 1), result.output
    for side in ("enhanced_performance", "baseline_performance", "thread_pool_hop"):
        perf = data[side]
        assert set(perf["response_times_ms"]) == {"mean", "p50", "p95", "p99"}
        assert perf["throughput_rps"] > 0 and perf["operations"] == 2000
    assert data["baseline_performance"]["overall_hit_rate"] == 0.0
    assert data["enhanced_performance"]["overall_hit_rate"] == 1.0  # every key is in Redis at least
    assert data["workload"]["keys"] == 5000 and data["workload"]["redis_health"] == "healthy"
    assert data["improvement"]["throughput"] == pytest.approx(
        data["enhanced_performance"]["throughput_rps"] / data["baseline_performance"]["throughput_rps"]
    )
    lines = result.output.splitlines()
    assert lines[0] == "Performance Benchmark Results:"
    assert lines[4].endswith("(Target: ≥8x; the guide claims 8.4x)")
    assert lines[-1] == f"results written to {out}"


def test_benchmark_without_output_prints_only(env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(["benchmark", "--iterations", "200"], env)
    assert result.exit_code in (0, 1) and "Overall Assessment: " in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # only the UCM_DATA_DIR of `env`


@pytest.mark.parametrize("throughput, response, hit_rate, verdict", [
    (8.0, 8.0, 0.90, "✅ TARGETS MET"),
    (7.9, 9.0, 0.95, "⚠️ PERFORMANCE DEGRADATION"),
    (9.0, 9.0, 0.89, "⚠️ PERFORMANCE DEGRADATION"),
])
def test_benchmark_verdict_follows_the_guide_targets(throughput, response, hit_rate, verdict):
    perf = {"throughput_rps": 1.0, "response_times_ms": {"mean": 1.0, "p50": 1.0, "p95": 1.0, "p99": 1.0},
            "overall_hit_rate": hit_rate, "l1_hit_rate": hit_rate}
    met = throughput >= 8 and response >= 8 and hit_rate >= 0.90
    result = {"enhanced_performance": perf, "baseline_performance": perf, "thread_pool_hop": perf,
              "improvement": {"throughput": throughput, "response_time": response}, "targets_met": met,
              "workload": {"database": "sqlite x"}}
    assert ops.benchmark_report(result)[-1] == f"  Overall Assessment: {verdict}"


def test_regression_passes(env):
    result = invoke(["regression"], env)
    assert result.exit_code == 0, result.output
    assert "Cache Hit Rate: 98.00%" in result.output
    assert result.output.rstrip().endswith("✅ Performance within expected parameters")


def test_regression_fails_with_exit_1_when_nothing_is_cached(env, monkeypatch):
    async def store_nothing(self, key, value, ttl=None):
        return None

    monkeypatch.setattr(UnifiedConnectionManager, "set_cached", store_nothing)
    result = invoke(["regression"], env)
    assert result.exit_code == 1
    assert "⚠️ PERFORMANCE REGRESSION DETECTED:" in result.output
    assert "  - Cache hit rate too low: 0.00%" in result.output


def test_export_metrics(env, tmp_path):
    out = tmp_path / "m.csv"
    result = invoke(["export-metrics", "--output", str(out), "--probe", "200"], env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Metrics exported to {out}"
    (row,) = list(csv.DictReader(open(out, newline="")))
    assert row["total_requests"] == "200" and row["cache_health"] == "healthy"
    assert int(row["l1_hits"]) + int(row["l2_hits"]) + int(row["l3_hits"]) < 200  # first reads miss


def test_bad_profile_is_a_usage_error(env):
    result = invoke(["regression", "--profile", "turbo"], env)
    assert result.exit_code == 2
    assert "Invalid value for '--profile'" in result.output


def test_postgres_without_driver_is_a_clear_error(env, monkeypatch):
    for driver in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, driver, None)  # as if neither were installed
    env["DATABASE_URL"] = "postgresql://u@127.0.0.1/db"
    result = CliRunner().invoke(main, ["regression"], env=env)
    assert result.exit_code == 2
    assert "no PostgreSQL driver is installed" in result.output


def scrape(port: int) -> dict:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def start_demo(args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UCM_", "REDIS_", "DATABASE_"))}
    env.update(env_extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", "unified_cache.cli", "demo", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    line = proc.stdout.readline().strip()
    prefix = "serving metrics on http://127.0.0.1:"
    if not line.startswith(prefix):
        proc.kill()
        raise AssertionError(f"unexpected first line {line!r}: {proc.stderr.read()}")
    port = int(line[len(prefix):].split("/")[0])
    hint = proc.stdout.readline().strip()
    assert hint == f"inject faults with: ucm fault --port {port} errors=0.2   (or db_errors=1, l1_delay_ms=20, l1_size=10, clear)"
    return proc, port


def wait_scrape(port, predicate, tries=500):
    import time

    for _ in range(tries):
        samples = scrape(port)
        if predicate(samples):
            return samples
        time.sleep(0.02)
    raise AssertionError("the demo never reached the expected state")


def l1(samples, status):
    return samples.get(("unified_cache_operations_total", (("cache_level", "l1"), ("status", status))), 0)


def test_demo_serves_catalog_metrics_and_stops_on_sigterm(env):
    proc, port = start_demo(
        ["--duration", "0", "--rate", "400", "--keys", "200", "--warming-interval", "0.1", "--health-interval", "0.1"],
        env,
    )
    try:
        samples = wait_scrape(
            port, lambda s: l1(s, "hit") > 50 and s.get(("unified_cache_warming_cycles_total", ()), 0) >= 2
        )
        names = {name for name, _ in samples}
        for metric, spec in CATALOG.items():
            probe = metric + ("_count" if spec["type"] == "histogram" else "")
            assert probe in names, metric
        assert samples[("unified_redis_master_connected", ())] == 1
        assert samples[("unified_redis_replica_connected", ())] == 1
        assert samples[("unified_cache_l1_max_size", ())] == 2000
        freq = [k for k in samples if k[0] == "unified_cache_key_access_frequency"]
        assert 0 < len(freq) <= 20
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert out.startswith("demo finished: ") and "health healthy" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_keeps_running_without_redis(env):
    env.update(REDIS_URL="redis://127.0.0.1:1/0", REDIS_REPLICA_URL="")
    proc, port = start_demo(
        ["--duration", "0", "--rate", "300", "--keys", "200", "--l1-size", "20", "--health-interval", "0.1"], env
    )
    try:
        first = wait_scrape(port, lambda s: l1(s, "miss") > 0)
        later = wait_scrape(port, lambda s: l1(s, "hit") + l1(s, "miss") > l1(first, "hit") + l1(first, "miss") + 100)
        assert later[("unified_redis_master_connected", ())] == 0
        assert later[("unified_redis_connection_errors_total", (("role", "master"),))] >= 1
        assert later[("unified_cache_operations_total", (("cache_level", "l3"), ("status", "hit")))] > 0
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "health emergency" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_with_duration_exits_by_itself(env):
    proc, port = start_demo(["--duration", "0.5", "--rate", "200"], env)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.startswith("demo finished: ")


@pytest.fixture
def demo(env):
    proc, port = start_demo(["--duration", "0", "--rate", "400", "--keys", "200", "--health-interval", "0.1"], env)
    wait_scrape(port, lambda s: l1(s, "hit") > 2000)
    yield proc, port
    proc.kill()
    proc.wait()


def test_health_reads_the_running_service(demo):
    _, port = demo
    url = f"http://127.0.0.1:{port}/metrics"
    result = invoke(["health", "--metrics-url", url], {})
    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert lines[0] == "=== Daily Cache Performance Check ==="
    assert lines[2] == f"Source: {url}"
    assert lines[3] == "Overall Performance: ✅ EXCELLENT"
    assert lines[4].startswith("  Hit Rate: 9") and lines[4].endswith("✅")
    assert lines[5] == "  Health: healthy ✅"
    # The demo's 200 zipf keys in a 2000-slot L1: 10 % once the rarest were read, a little less before.
    utilization = re.fullmatch(r"  L1 Utilization: (\d+\.\d\d)% ✅", lines[6])
    assert utilization and 5 <= float(utilization[1]) <= 10, lines[6]
    assert lines[7:9] == ["Recent Performance Alerts:", "  unknown: give --prometheus-url to read the alerts"]
    assert lines[9] == "Cache Warming Status:" and lines[-1] == "=== Performance Check Complete ==="


def test_tune_reads_the_running_service(demo):
    _, port = demo
    result = invoke(["tune", "--metrics-url", f"http://127.0.0.1:{port}/metrics"], {})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [  # 200 keys in an L1 of 2000 at a >90% hit rate
        "=== Performance Tuning Recommendations ===",
        "1. L1 cache underutilized - consider reducing size to save memory",
    ]


def test_health_and_tune_need_a_running_service():
    for command in ("health", "tune"):
        result = CliRunner().invoke(main, [command], env={"UCM_METRICS_URL": "", "PROMETHEUS_URL": ""})
        assert result.exit_code == 2
        assert "say where the running cache is: --metrics-url URL or --prometheus-url URL" in result.output
    result = CliRunner().invoke(main, ["health", "--metrics-url", "http://127.0.0.1:1/metrics"])
    assert result.exit_code == 2 and "error: cannot read http://127.0.0.1:1/metrics" in result.output


def test_fault_switch_injects_errors_shrinks_l1_and_clears(demo):
    _, port = demo
    result = invoke(["fault", "--port", str(port), "errors=1", "l1_delay_ms=1"], {})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"errors": 1.0, "db_errors": 0.0, "l1_delay_ms": 1.0, "l1_size": 2000}
    before = scrape(port)
    after = wait_scrape(port, lambda s: l1(s, "error") > l1(before, "error") + 50)
    assert l1(after, "hit") == l1(before, "hit") or l1(after, "hit") - l1(before, "hit") < 5  # every get fails now
    result = invoke(["fault", "--port", str(port), "clear", "l1_size=10", "db_errors=0.5"], {})
    assert json.loads(result.output) == {"errors": 0.0, "db_errors": 0.5, "l1_delay_ms": 0.0, "l1_size": 10}
    shrunk = wait_scrape(port, lambda s: s[("unified_cache_l1_size", ())] <= 10 and l1(s, "hit") > l1(after, "hit"))
    assert shrunk[("unified_cache_l1_max_size", ())] == 10
    result = invoke(["fault", "--port", str(port), "clear"], {})
    assert json.loads(result.output)["l1_size"] == 2000
    assert json.loads(result.output)["db_errors"] == 0.0
    result = invoke(["fault", "--port", str(port), "errors=2"], {})
    assert result.exit_code == 2 and "'errors=2': errors is a share between 0 and 1" in result.output
    result = invoke(["fault", "--port", str(port), "db_errors=-0.1"], {})
    assert result.exit_code == 2 and "'db_errors=-0.1': db_errors is a share between 0 and 1" in result.output


def test_metrics_endpoint_survives_a_burst_and_drops_idle_connections(demo):
    import socket
    import time
    from concurrent.futures import ThreadPoolExecutor

    _, port = demo
    idle = socket.create_connection(("127.0.0.1", port))  # connects, sends nothing
    url = f"http://127.0.0.1:{port}/metrics"

    def fetch(_):
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Connection")

    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(fetch, range(200)))
    assert results == [(200, None)] * 200 or all(status == 200 for status, _ in results)
    idle.settimeout(30)
    started = time.monotonic()
    assert idle.recv(1) == b""  # the server closed it
    assert time.monotonic() - started < 20
    idle.close()


def test_health_reads_prometheus_and_its_alerts(demo, tmp_path):
    from support.processes import wait_until
    from support.prometheus_server import PrometheusServer

    _, port = demo
    (tmp_path / "rules.yml").write_text(
        "groups:\n- name: t\n  rules:\n  - alert: CacheTestCritical\n    expr: vector(1)\n"
        "    labels: {severity: critical}\n"
    )
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{tmp_path / 'rules.yml'}']\n"
        f"scrape_configs:\n- job_name: unified-cache\n  static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    prometheus = PrometheusServer(tmp_path, tmp_path / "prometheus.yml").start()
    try:
        wait_until(lambda: prometheus.api("query", query='sum(increase(unified_cache_operations_total{cache_level="l1"}[5m])) > 0')["result"]
                   and prometheus.api("alerts")["alerts"], timeout=60, what="two scrapes and the test alert")
        result = invoke(["health", "--prometheus-url", prometheus.url], {})
        lines = result.output.splitlines()
        assert result.exit_code == 1, result.output  # a critical alert is firing
        assert lines[2] == f"Source: {prometheus.url}"
        assert lines[5] == "  Health: healthy ✅"
        assert lines[7] == "Recent Performance Alerts:"
        assert lines[8].startswith("  🚨 CacheTestCritical (critical, firing since ")
        assert lines[9] == "Cache Warming Status:"
        result = invoke(["tune", "--prometheus-url", prometheus.url], {})
        assert result.exit_code == 0 and result.output.startswith("=== Performance Tuning Recommendations ===\n")
    finally:
        prometheus.stop()
