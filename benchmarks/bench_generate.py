"""`monspec generate` as a user runs it (a whole process), beside `python -c 'import yaml'`
measured in the same run, on the guide's specs and on synthetic spec sets 10x and 100x
as large, to show that cost grows linearly.

Targets: under 1 s for the guide's specs, under 10 s at 100x.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CORE = ("project.yaml", "catalog.yaml", "recording_rules.yaml", "kpis.yaml", "alerts.yaml")


def timed(argv: list[str], runs: int) -> float:
    """Median wall time of `runs` runs, in seconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def synthetic_specs(target: Path, copies: int) -> int:
    """The guide's catalog, rules, KPIs and alerts `copies` times, under distinct names."""
    target.mkdir(parents=True)
    shutil.copy(REPO / "specs" / "project.yaml", target / "project.yaml")
    for i in range(copies):
        sections: dict = {}
        for name in CORE[1:]:
            text = (REPO / "specs" / name).read_text().replace("unified_", f"s{i}_unified_")
            data = yaml.safe_load(text)
            for key, value in data.items():
                if key == "metrics" and i > 0:  # process_* and python_* exist once per process
                    value = {k: v for k, v in value.items() if k.startswith(f"s{i}_")}
                if key in ("kpis", "alerts"):
                    value = {f"{k}_{i}": v for k, v in value.items()}
                    for v in value.values():
                        if "kpi" in v:
                            v["kpi"] = f"{v['kpi']}_{i}"
                sections[key] = value
        (target / f"copy{i:03}.yaml").write_text(yaml.safe_dump(sections, sort_keys=False))
    return sum(1 for _ in target.glob("*.yaml"))


def main() -> None:
    monspec = [sys.executable, "-m", "monspec.cli"]
    runs = 5
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        baseline = timed([sys.executable, "-c", "import yaml"], runs)
        guide = timed(monspec + ["generate", "--specs", str(REPO / "specs"), "--out", str(tmp / "guide")], runs)
        print(f"python -c 'import yaml'        {baseline * 1000:8.0f} ms  (baseline)")
        print(f"monspec generate, guide specs  {guide * 1000:8.0f} ms  {guide / baseline:6.1f}x baseline   target < 1000 ms")
        sizes = {}
        for copies in (1, 10, 100):
            specs = tmp / f"specs{copies}"
            synthetic_specs(specs, copies)
            sizes[copies] = timed(monspec + ["generate", "--specs", str(specs), "--out", str(tmp / f"out{copies}")],
                                  3 if copies < 100 else 1)
        rules = len(yaml.safe_load((tmp / "out100" / "prometheus" / "rules.yml").read_text())["groups"][1]["rules"])
        for copies, seconds in sizes.items():
            per_copy = (seconds - baseline) / copies * 1000
            print(f"synthetic {copies:3}x core specs       {seconds * 1000:8.0f} ms  {per_copy:7.1f} ms per copy above baseline")
        growth = (sizes[100] - sizes[10]) / (sizes[10] - sizes[1]) if sizes[10] > sizes[1] else float("nan")
        print(f"100x has {rules} alerts; cost 10x->100x over 1x->10x: {growth:.1f} (linear: 10.0)   target 100x < 10000 ms")
        print("where the 100x time goes (in-process, one run):")
        for stage, seconds in stage_times(tmp / "specs100"):
            print(f"  {stage:28} {seconds * 1000:8.0f} ms")


def stage_times(specs_dir: Path) -> list[tuple[str, float]]:
    """Load + lint, then each renderer on its own."""
    import importlib

    from monspec.lint import run_lint
    from monspec.model import build_model
    from monspec.render import RENDERERS
    from monspec.spec import load_specs

    start = time.perf_counter()
    specs = load_specs(specs_dir)
    out = [("load specs", time.perf_counter() - start)]
    start = time.perf_counter()
    model = build_model(specs)
    out.append(("build model", time.perf_counter() - start))
    start = time.perf_counter()
    run_lint(model)
    out.append(("lint", time.perf_counter() - start))
    for module in RENDERERS:
        name = module.__name__.rsplit(".", 1)[-1]
        start = time.perf_counter()
        module.render(model)
        out.append((f"render {name}", time.perf_counter() - start))
    return out


if __name__ == "__main__":
    main()
