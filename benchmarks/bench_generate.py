"""`monspec generate`: the bundled specs against a floor, and synthetic specs at 1x, 10x, 100x.

Figures and ratios measured in the same run (never asserted):
- bundled specs: median wall and CPU of `monspec generate` beside the floor script
  (benchmarks/floor.py: import the libraries, write the same files from prepared data), and
  the share of generate's CPU spent importing. Targets: wall < 0.5 s, < 2x the floor.
- synthetic specs (benchmarks/synthetic.py: every section multiplied, dashboards and routing
  included): CPU and peak memory of each stage at 1x, 10x and 100x with the growth factor per
  10x, and the whole process's CPU. Targets: 100x < 10 s CPU, each stage grows <= ~12x per 10x.
"""
from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import floor, synthetic

SIZES = (1, 10, 100)
GROWTH_TARGET = 12.0


def run_process(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU user+sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(argv: list[str], runs: int) -> tuple[float, float]:
    samples = [run_process(argv) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def stages(specs: Path, out: Path, memory: bool = False) -> dict[str, float]:
    argv = [sys.executable, "-m", "benchmarks.stages", str(specs), str(out)] + (["--memory"] if memory else [])
    return json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)


def generate_argv(specs: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "monspec.cli", "generate", "--specs", str(specs), "--out", str(out)]


def bundled(tmp: Path, runs: int = 7) -> None:
    out = tmp / "bundled"
    run_process(generate_argv(synthetic.SPECS, out))
    prepared = tmp / "prepared.json"
    prepared.write_text(json.dumps(floor.prepare(out)))
    floor_wall, floor_cpu = medians([sys.executable, "-m", "benchmarks.floor", str(prepared), str(tmp / "floor")], runs)
    wall, cpu = medians(generate_argv(synthetic.SPECS, out), runs)
    split = stages(synthetic.SPECS, tmp / "bundled-stages")
    share = split["import"] / sum(split.values())
    print(f"bundled specs, median of {runs}       wall ms   CPU ms")
    print(f"  floor (imports + write)        {floor_wall * 1000:8.0f} {floor_cpu * 1000:8.0f}")
    print(f"  monspec generate               {wall * 1000:8.0f} {cpu * 1000:8.0f}   "
          f"{wall / floor_wall:.2f}x floor wall, {cpu / floor_cpu:.2f}x floor CPU   target < 500 ms, < 2x")
    print(f"  imports: {share:.0%} of generate's CPU ({split['import'] * 1000:.0f} ms)")


def scaling(tmp: Path) -> None:
    cpu: dict[int, dict[str, float]] = {}
    memory: dict[int, dict[str, float]] = {}
    whole: dict[int, float] = {}
    rules: dict[int, int] = {}
    for size in SIZES:
        specs = synthetic.write_specs(tmp / f"specs{size}", size)
        out = tmp / f"out{size}"
        whole[size] = run_process(generate_argv(specs, out))[1]
        rules[size] = sum(text.count("\n      - alert:") + text.count("\n      - record:")
                          for text in [(out / "prometheus" / "rules.yml").read_text()])
        cpu[size] = stages(specs, tmp / f"stages{size}")
        memory[size] = stages(specs, tmp / f"memory{size}", memory=True)
    print("synthetic specs (every section x N): CPU ms and peak MB per stage, growth per 10x "
          f"(target <= {GROWTH_TARGET:.0f}x)")
    print(f"  {'stage':28}" + "".join(f"{f'{n}x ms':>9}" for n in SIZES) + f"{'10x/1x':>8}{'100x/10x':>9}"
          + "".join(f"{f'{n}x MB':>9}" for n in SIZES) + f"{'MB 100/10':>10}")
    for stage in cpu[SIZES[0]]:
        times = [cpu[n][stage] for n in SIZES]
        peaks = [memory[n][stage] / 1e6 for n in SIZES]
        flag = "  <-- over" if _growth(times[1], times[2]) > GROWTH_TARGET and times[2] > 0.05 else ""
        print(f"  {stage:28}" + "".join(f"{t * 1000:9.0f}" for t in times)
              + f"{_growth(times[0], times[1]):8.1f}{_growth(times[1], times[2]):9.1f}"
              + "".join(f"{p:9.1f}" for p in peaks) + f"{_growth(peaks[1], peaks[2]):10.1f}{flag}")
    print(f"  {'whole process (CPU)':28}" + "".join(f"{whole[n] * 1000:9.0f}" for n in SIZES)
          + f"{_growth(whole[1], whole[10]):8.1f}{_growth(whole[10], whole[100]):9.1f}   target 100x < 10000 ms")
    print("  rules: " + ", ".join(f"{rules[n]} at {n}x" for n in SIZES))


def _growth(small: float, large: float) -> float:
    return large / small if small > 0 else float("nan")


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        bundled(tmp)
        scaling(tmp)


if __name__ == "__main__":
    main()
