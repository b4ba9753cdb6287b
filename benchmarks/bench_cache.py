"""unified_cache benchmark: figures measured side by side in one run (no assertions).

- L1 hit p50 / p99 through the manager (instrumentation included) beside a bare
  OrderedDict LRU get. Target: p50 <= 5 us.
- L2 hit through the manager beside a raw redis-py GET on the same server. Target <= 1.3x.
- Manager throughput at >= 93% L1 hits against the database-only baseline (the same reads
  served by L3 alone, see docs/unified_cache.md). Target >= 8.4x, aim 20x.

Starts its own redis-server on a free loopback port; SQLite lives in a temp directory.
"""
from __future__ import annotations

import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

from prometheus_client import CollectorRegistry

N_L1 = 20000
N_L2 = 3000
THROUGHPUT_ITERATIONS = 20000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis(workdir: Path) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc, port
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:7.2f} us"


async def _measure(redis_url: str, data_dir: str) -> None:
    from redis.asyncio import Redis

    from unified_cache import CacheConfig, ManagerMode, UnifiedConnectionManager
    from unified_cache.operations import run_benchmark

    config = CacheConfig.from_env(env={}, redis_url=redis_url, data_dir=data_dir, enable_warming=False)
    perf = time.perf_counter
    async with UnifiedConnectionManager(ManagerMode.HIGH_AVAILABILITY, config=config, registry=CollectorRegistry()) as m:
        # 1. L1 hit vs a bare OrderedDict LRU
        await m.set_cached("bench:l1", {"payload": "x" * 64})
        times = []
        for _ in range(N_L1):
            t = perf()
            await m.get_cached("bench:l1")
            times.append(perf() - t)
        lru: OrderedDict = OrderedDict((f"k{i}", i) for i in range(1000))
        bare = []
        for _ in range(N_L1):
            t = perf()
            v = lru["k500"]
            lru.move_to_end("k500")
            bare.append(perf() - t)
        del v
        print(f"L1 hit via manager   p50 {_us(_pct(times, .5))}  p99 {_us(_pct(times, .99))}   (target p50 <= 5 us)")
        print(f"bare OrderedDict LRU p50 {_us(_pct(bare, .5))}  p99 {_us(_pct(bare, .99))}")

        # 2. L2 hit vs raw redis-py GET on the same server
        raw_client = Redis.from_url(redis_url)
        await m.set_cached("bench:l2", {"payload": "x" * 64})
        l2_times, raw_times = [], []
        for _ in range(200):  # warm both connection pools
            m.l1.delete("bench:l2")
            await m.get_cached("bench:l2")
            await raw_client.get("ucm:bench:l2")
        for _ in range(N_L2):
            m.l1.delete("bench:l2")
            t = perf()
            await m.get_cached("bench:l2")
            l2_times.append(perf() - t)
            t = perf()
            await raw_client.get("ucm:bench:l2")
            raw_times.append(perf() - t)
        await raw_client.aclose()
        p50_ratio = _pct(l2_times, .5) / _pct(raw_times, .5)
        mean_ratio = statistics.fmean(l2_times) / statistics.fmean(raw_times)
        print(f"L2 hit via manager   p50 {_us(_pct(l2_times, .5))}  p99 {_us(_pct(l2_times, .99))}")
        print(f"raw redis-py GET     p50 {_us(_pct(raw_times, .5))}  p99 {_us(_pct(raw_times, .99))}")
        print(f"L2 / raw ratio       p50 {p50_ratio:.2f}x  mean {mean_ratio:.2f}x   (target <= 1.3x)")

        # 3. Throughput at the guide's hit ratio vs the database alone
        result = await run_benchmark(m, THROUGHPUT_ITERATIONS)
        cur, base = result["enhanced_performance"], result["baseline_performance"]
        print(
            f"manager throughput   {cur['throughput_rps']:9.0f} ops/s  L1 hit {cur['l1_hit_rate']:.2%}  "
            f"overall hit {cur['overall_hit_rate']:.2%}  mean {cur['response_times_ms']['mean'] * 1000:.1f} us"
        )
        print(
            f"database-only        {base['throughput_rps']:9.0f} ops/s  mean {base['response_times_ms']['mean'] * 1000:.1f} us"
        )
        print(f"throughput ratio     {result['improvement']['throughput']:.1f}x   (target >= 8.4x, aim 20x)")


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="ucm-bench-"))
    proc, port = _start_redis(workdir)
    try:
        asyncio.run(_measure(f"redis://127.0.0.1:{port}/0", str(workdir / "data")))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
