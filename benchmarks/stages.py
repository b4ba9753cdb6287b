"""One `generate` taken apart: CPU seconds and peak memory of each stage, in a fresh process.

    python -m benchmarks.stages SPECS_DIR OUT_DIR [--memory]

Prints one JSON object {stage: seconds or peak bytes}. CPU time (not wall) so that other
load on the machine does not blur the figures; memory comes from a second run under
tracemalloc, which slows every stage down and so is never mixed with the timing run.
"""
from __future__ import annotations

import importlib
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Meter:
    """Runs stages one after another and keeps each one's CPU time or peak traced memory."""

    def __init__(self, memory: bool) -> None:
        self.memory = memory
        self.figures: dict[str, float] = {}
        if memory:
            tracemalloc.start()

    def run(self, stage: str, work: Callable[[], Any]) -> Any:
        if self.memory:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            result = work()
            self.figures[stage] = float(tracemalloc.get_traced_memory()[1] - base)
        else:
            start = time.process_time()
            result = work()
            self.figures[stage] = time.process_time() - start
        return result


def measure(specs_dir: Path, out_dir: Path, memory: bool) -> dict[str, float]:
    """The stages of `monspec.build.compile_specs` (with the cyclic collector paused, as it pauses
    it: monspec.heap) and the write, each on its own."""
    meter = Meter(memory)
    meter.run("import", lambda: importlib.import_module("monspec.build"))
    from monspec.heap import cycle_collection_paused
    from monspec.output import write_tree

    with cycle_collection_paused():
        files = _compile(meter, specs_dir)
    meter.run("write", lambda: write_tree(out_dir, files))
    return meter.figures


def _compile(meter: Meter, specs_dir: Path) -> dict[str, bytes]:
    from monspec.lint import run_lint
    from monspec.model import build_model
    from monspec.render import RENDERERS
    from monspec.spec import load_specs

    specs = meter.run("load", lambda: load_specs(specs_dir))
    model = meter.run("model", lambda: build_model(specs))
    meter.run("lint", lambda: run_lint(model))
    files: dict[str, bytes] = {}
    for module in RENDERERS:
        name = module.__name__.rsplit(".", 1)[-1]
        for path, text in meter.run(f"render {name}", lambda m=module: m.render(model)).items():
            files[path] = text.encode()
    return files


def main(argv: list[str]) -> int:
    specs_dir, out_dir = Path(argv[0]), Path(argv[1])
    print(json.dumps(measure(specs_dir, out_dir, memory="--memory" in argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
