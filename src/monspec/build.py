"""The compile stage the commands share: load specs, lint them, render every output file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monspec.errors import Problem, SpecError
from monspec.lint import run_lint
from monspec.render import render_all
from monspec.spec import SpecSet, load_specs


@dataclass
class Build:
    specs: SpecSet
    problems: list[Problem]  # warnings (errors raise)
    files: dict[str, bytes]


def lint_specs(specs_dir: Path) -> tuple[SpecSet, list[Problem]]:
    specs = load_specs(specs_dir)
    return specs, run_lint(specs)


def compile_specs(specs_dir: Path) -> Build:
    """Everything `generate` writes; SpecError when any lint error stands in the way."""
    specs, problems = lint_specs(specs_dir)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise SpecError(problems)
    return Build(specs, problems, render_all(specs))
