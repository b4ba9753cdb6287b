"""Each `ucm` command, in-process through click's CliRunner or as a real process (demo)."""
from __future__ import annotations

import csv
import json
import os
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


def test_health_excellent_after_probe(env):
    result = invoke(["health"], env)
    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert lines[0] == "=== Daily Cache Performance Check ==="
    assert lines[2] == "Overall Performance: ✅ EXCELLENT"
    assert lines[3] == "  Hit Rate: 95.00% ✅"  # 50 probe keys, 1000 reads: 50 first-time misses
    assert lines[4] == "  Health: healthy ✅"
    assert "  Redis master: connected" in lines and "  Redis replica: connected" in lines
    assert lines[-1] == "=== Performance Check Complete ==="


def test_health_needs_attention_in_emergency_mode(env):
    env.update(REDIS_URL="redis://127.0.0.1:1/0", REDIS_REPLICA_URL="")
    result = invoke(["health", "--probe", "0"], env)
    assert result.exit_code == 1
    assert "Overall Performance: ⚠️ NEEDS ATTENTION" in result.output
    assert "  Health: emergency ❌" in result.output
    assert "  Redis master: DISCONNECTED" in result.output


def test_benchmark_writes_the_guide_keys(env, tmp_path):
    out = tmp_path / "bench.json"
    result = invoke(["benchmark", "--iterations", "2000", "--output", str(out)], env)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for side in ("enhanced_performance", "baseline_performance"):
        perf = data[side]
        assert set(perf["response_times_ms"]) == {"mean", "p50", "p95", "p99"}
        assert perf["throughput_rps"] > 0 and perf["operations"] == 2000
    assert data["baseline_performance"]["overall_hit_rate"] == 0.0
    assert data["enhanced_performance"]["overall_hit_rate"] == 1.0  # every key is in Redis at least
    assert data["workload"]["keys"] == 5000 and data["workload"]["redis_health"] == "healthy"
    assert data["improvement"]["throughput"] == pytest.approx(
        data["enhanced_performance"]["throughput_rps"] / data["baseline_performance"]["throughput_rps"]
    )
    assert f"results written to {out}" in result.output


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


def test_tune(env):
    result = invoke(["tune"], env)
    assert result.exit_code == 0, result.output
    # the probe leaves a 95% hit rate and an L1 emptied of its probe keys
    assert result.output.splitlines() == [
        "=== Performance Tuning Recommendations ===",
        "1. L1 cache underutilized - consider reducing size to save memory",
    ]


def test_export_metrics(env, tmp_path):
    out = tmp_path / "m.csv"
    result = invoke(["export-metrics", "--output", str(out), "--probe", "200"], env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Metrics exported to {out}"
    (row,) = list(csv.DictReader(open(out, newline="")))
    assert row["total_requests"] == "200" and row["cache_health"] == "healthy"
    assert int(row["l1_hits"]) + int(row["l2_hits"]) + int(row["l3_hits"]) < 200  # first reads miss


def test_bad_profile_is_a_usage_error(env):
    result = invoke(["health", "--profile", "turbo"], env)
    assert result.exit_code == 2
    assert "Invalid value for '--profile'" in result.output


def test_postgres_without_driver_is_a_clear_error(env):
    try:
        import psycopg  # noqa: F401
        pytest.skip("a PostgreSQL driver is installed")
    except ImportError:
        pass
    env["DATABASE_URL"] = "postgresql://u@127.0.0.1/db"
    result = CliRunner().invoke(main, ["health", "--probe", "0"], env=env)
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
    return proc, int(line[len(prefix):].split("/")[0])


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
