"""`monspec generate`: the bundled specs against a floor, and synthetic specs at 1x, 10x, 100x.

Figures and ratios measured in the same run (never asserted):
- bundled specs: median wall and CPU of `monspec generate` beside the floor script
  (benchmarks/floor.py: import the libraries, write the same files from prepared data), and
  the share of generate's CPU spent importing. Targets: wall < 0.5 s, < 2x the floor.
- synthetic specs (benchmarks/synthetic.py: every section multiplied, dashboards and routing
  included): CPU and peak memory of each stage at 1x, 10x and 100x with the growth factor per
  10x, and the whole process's CPU writing a fresh folder, then over its own output (where
  unchanged files are kept), and again with each copy a component (scrape job) of its own, as
  fifty services sharing one spec set are. CPU figures are the least of 3 runs: on a shared
  machine other load only adds to them, and a single run varied by 30 %. Targets: 100x < 10 s
  CPU, each stage grows <= ~12x per 10x.

Each target is printed with PASS or MISS and the figure it was judged on. monspec's bytecode is
compiled first, as `pip install` does: an editable install (or PYTHONDONTWRITEBYTECODE=1) would
otherwise compile every monspec module from source in every timed run, the libraries not.
"""
from __future__ import annotations

import compileall
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import monspec
from benchmarks import floor, synthetic

SIZES = (1, 10, 100)
GROWTH_TARGET = 12.0  # per stage, from 10x to 100x
SMALL = 0.05  # seconds: a stage this cheap at 100x is not judged on its growth
BUNDLED_WALL_TARGET = 0.5  # seconds, median
FLOOR_RATIO_TARGET = 2.0
SCALED_CPU_TARGET = 10.0  # seconds at 100x, whole process
RUNS = 3  # per size, of the stages and of the whole process: the least CPU is kept (other load only adds)


def run_process(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU user+sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(argvs: list[list[str]], runs: int) -> list[tuple[float, float]]:
    """(median wall, median CPU) of each command, the commands taking turns so that a change of
    load on the machine weighs on each alike."""
    samples: list[list[tuple[float, float]]] = [[] for _ in argvs]
    for _ in range(runs):
        for argv, taken in zip(argvs, samples, strict=True):
            taken.append(run_process(argv))
    return [(statistics.median(s[0] for s in taken), statistics.median(s[1] for s in taken)) for taken in samples]


def stages(specs: Path, out: Path, memory: bool = False) -> dict[str, float]:
    argv = [sys.executable, "-m", "benchmarks.stages", str(specs), str(out)] + (["--memory"] if memory else [])
    return json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)


def generate_argv(specs: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "monspec.cli", "generate", "--specs", str(specs), "--out", str(out)]


def bundled(tmp: Path, runs: int = 9) -> None:
    out = tmp / "bundled"
    run_process(generate_argv(synthetic.SPECS, out))
    prepared = tmp / "prepared.json"
    prepared.write_text(json.dumps(floor.prepare(out)))
    (floor_wall, floor_cpu), (wall, cpu) = medians(
        [[sys.executable, "-m", "benchmarks.floor", str(prepared), str(tmp / "floor")], generate_argv(synthetic.SPECS, out)],
        runs)
    split = stages(synthetic.SPECS, tmp / "bundled-stages")
    share = split["import"] / sum(split.values())
    print(f"bundled specs, median of {runs} runs each     wall ms   CPU ms")
    print(f"  floor (imports + write)        {floor_wall * 1000:8.0f} {floor_cpu * 1000:8.0f}")
    print(f"  monspec generate               {wall * 1000:8.0f} {cpu * 1000:8.0f}   "
          f"{wall / floor_wall:.2f}x floor wall, {cpu / floor_cpu:.2f}x floor CPU")
    print(f"  imports: {share:.0%} of generate's CPU ({split['import'] * 1000:.0f} ms)")
    verdict(f"bundled generate median wall < {BUNDLED_WALL_TARGET * 1000:.0f} ms", wall < BUNDLED_WALL_TARGET,
            f"{wall * 1000:.0f} ms")
    verdict(f"bundled generate wall < {FLOOR_RATIO_TARGET:.0f}x the floor's", wall / floor_wall < FLOOR_RATIO_TARGET,
            f"{wall / floor_wall:.2f}x")


def scaling(tmp: Path) -> None:
    cpu: dict[int, dict[str, float]] = {}
    memory: dict[int, dict[str, float]] = {}
    whole: dict[int, float] = {}
    regenerate: dict[int, float] = {}
    rules: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for size in SIZES:
        specs = synthetic.write_specs(tmp / f"specs{size}", size)
        out = tmp / f"out{size}"
        fresh, again, runs = [], [], []
        for i in range(RUNS):  # taking turns, so that a slow spell of the machine weighs on each alike
            fresh.append(_fresh_generate(specs, out))
            again.append(run_process(generate_argv(specs, out))[1])
            runs.append(stages(specs, tmp / f"stages{size}-{i}"))
        whole[size], regenerate[size] = min(fresh), min(again)
        cpu[size] = {stage: min(run[stage] for run in runs) for stage in runs[0]}
        rules[size] = sum(text.count("\n      - alert:") + text.count("\n      - record:")
                          for text in [(out / "prometheus" / "rules.yml").read_text()])
        sizes[size] = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
        memory[size] = stages(specs, tmp / f"memory{size}", memory=True)
    print("synthetic specs (every section x N): CPU ms and peak MB per stage, growth per 10x "
          f"(target <= {GROWTH_TARGET:.0f}x)")
    print(f"  {'stage':28}" + "".join(f"{f'{n}x ms':>9}" for n in SIZES) + f"{'10x/1x':>8}{'100x/10x':>9}"
          + "".join(f"{f'{n}x MB':>9}" for n in SIZES) + f"{'MB 100/10':>10}")
    over = []
    for stage in cpu[SIZES[0]]:
        times = [cpu[n][stage] for n in SIZES]
        peaks = [memory[n][stage] / 1e6 for n in SIZES]
        growth = _growth(times[1], times[2])
        flagged = growth > GROWTH_TARGET and times[2] > SMALL
        if flagged:
            over.append(f"{stage} {growth:.1f}x")
        print(f"  {stage:28}" + "".join(f"{t * 1000:9.0f}" for t in times)
              + f"{_growth(times[0], times[1]):8.1f}{growth:9.1f}"
              + "".join(f"{p:9.1f}" for p in peaks) + f"{_growth(peaks[1], peaks[2]):10.1f}"
              + ("  <-- over" if flagged else ""))
    print(f"  {'whole process (CPU)':28}" + "".join(f"{whole[n] * 1000:9.0f}" for n in SIZES)
          + f"{_growth(whole[1], whole[10]):8.1f}{_growth(whole[10], whole[100]):9.1f}")
    print(f"  {'regenerate, output unchanged':28}" + "".join(f"{regenerate[n] * 1000:9.0f}" for n in SIZES))
    jobs = {size: min(_fresh_generate(synthetic.write_specs(tmp / f"jobs{size}", size, components=True), tmp / f"jobs-out{size}")
                      for _ in range(RUNS)) for size in SIZES}
    print(f"  {'whole, a scrape job per copy':28}" + "".join(f"{jobs[n] * 1000:9.0f}" for n in SIZES)
          + f"{_growth(jobs[1], jobs[10]):8.1f}{_growth(jobs[10], jobs[100]):9.1f}")
    print("  rules: " + ", ".join(f"{rules[n]} at {n}x" for n in SIZES)
          + "; output: " + ", ".join(f"{sizes[n] / 1e6:.1f} MB at {n}x" for n in SIZES))
    verdict(f"generate at 100x < {SCALED_CPU_TARGET:.0f} s CPU", whole[100] < SCALED_CPU_TARGET, f"{whole[100]:.1f} s")
    verdict(f"generate at 100x, a scrape job per copy, < {SCALED_CPU_TARGET:.0f} s CPU", jobs[100] < SCALED_CPU_TARGET,
            f"{jobs[100]:.1f} s")
    verdict(f"every stage grows <= {GROWTH_TARGET:.0f}x from 10x to 100x (stages under {SMALL * 1000:.0f} ms at 100x "
            "not judged)", not over, ", ".join(over) or "none over")


def _fresh_generate(specs: Path, out: Path) -> float:
    """CPU of a generate that writes every file (no earlier output to keep files from)."""
    shutil.rmtree(out, ignore_errors=True)
    return run_process(generate_argv(specs, out))[1]


def verdict(target: str, met: bool, figure: str) -> None:
    print(f"  {'PASS' if met else 'MISS'}  {target}: {figure}")


def _growth(small: float, large: float) -> float:
    return large / small if small > 0 else float("nan")


def main() -> None:
    compileall.compile_dir(Path(monspec.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        bundled(tmp)
        scaling(tmp)


if __name__ == "__main__":
    main()
