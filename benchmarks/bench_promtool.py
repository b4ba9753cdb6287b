"""`promtool test rules` on the generated tests at 1x and 10x synthetic specs (benchmarks/synthetic.py).

Figures measured in the same run (never asserted):
- the per-chain test files (generated/prometheus/tests/*.yml, each loading only its rules), run
  one after another and with `--jobs 2`; target: 10x costs at most ~12x the 1x time;
- the same test groups in one file over the whole rules.yml (the layout before the split, where
  every test group evaluates every rule), at 1x only: at 10x it took 301 s.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks import synthetic
from benchmarks.bench_generate import GROWTH_TARGET, verdict
from monspec.toolcheck.unit_tests import promtool_test_folder

SIZES = (1, 10)


def timed(work) -> tuple[float, float]:
    """(wall, CPU of child processes) seconds of `work()`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    work()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_file(out: Path) -> Path:
    """Every test group of the alert and recording-rule test files (the SLO files, which have their
    own evaluation intervals, left out) in one file whose rule_files is the whole rules.yml."""
    tests_dir = out / "prometheus" / "tests"
    rules = yaml.safe_load((out / "prometheus" / "rules.yml").read_text())
    order = [group["name"] for group in rules["groups"]]
    groups = []
    for path in sorted(p for p in tests_dir.glob("*.yml") if not p.name.startswith("slo-")):
        data = yaml.safe_load(path.read_text())
        groups += data["tests"]
        interval = data["evaluation_interval"]
    target = out / "prometheus" / "one_file_test.yml"
    target.write_text(yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": interval,
                                      "group_eval_order": order, "tests": groups}, sort_keys=False))
    return target


def run_one_file(test_file: Path) -> None:
    subprocess.run(["promtool", "test", "rules", test_file.name], cwd=test_file.parent, check=True,
                   capture_output=True)


def main() -> None:
    figures: dict[tuple[int, str], tuple[float, float]] = {}
    counts: dict[int, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for size in SIZES:
            specs = synthetic.write_specs(tmp / f"specs{size}", size)
            out = tmp / f"out{size}"
            subprocess.run([sys.executable, "-m", "monspec.cli", "generate", "--specs", str(specs), "--out", str(out)],
                           check=True, capture_output=True)
            folder = out / "prometheus" / "tests"
            files = sorted(folder.glob("*.yml"))
            counts[size] = (len(files), sum(len(yaml.safe_load(p.read_text())["tests"]) for p in files))
            for jobs in (1, 2):
                results: list = []
                figures[(size, f"jobs{jobs}")] = timed(
                    lambda j=jobs, r=results, f=folder: r.extend(promtool_test_folder(f, j)))
                assert all(r.ok for r in results), [r.detail for r in results if not r.ok]
            if size == 1:
                test_file = one_file(out)
                figures[(size, "one file")] = timed(lambda t=test_file: run_one_file(t))
    print("promtool test rules on the generated tests        wall ms   CPU ms")
    for size in SIZES:
        files, groups = counts[size]
        print(f"  {size:3}x  {files:4} files, {groups:5} test groups")
        for how, label in (("jobs1", "per chain, one promtool"), ("jobs2", "per chain, --jobs 2"),
                           ("one file", "one file over rules.yml (before)")):
            if (size, how) in figures:
                wall, cpu = figures[(size, how)]
                print(f"        {label:34} {wall * 1000:8.0f} {cpu * 1000:8.0f}")
    (w1, c1), (w10, c10) = figures[(1, "jobs1")], figures[(10, "jobs1")]
    print(f"  10x / 1x per chain: {w10 / w1:.1f}x wall, {c10 / c1:.1f}x CPU")
    verdict(f"promtool test rules at 10x costs <= ~{GROWTH_TARGET:.0f}x the 1x CPU", c10 / c1 <= GROWTH_TARGET * 1.05,
            f"{c10 / c1:.1f}x")
    one = figures[(1, "one file")][1]
    print(f"  at 1x the one-file layout costs {one / c1:.1f}x the per-chain CPU (at 10x it took 301 s)")


if __name__ == "__main__":
    main()
