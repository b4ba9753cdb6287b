"""The compile stage the commands share: load specs, build the model once, lint it, render every output file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monspec.errors import Problem, SpecError
from monspec.heap import cycle_collection_paused
from monspec.lint import run_lint
from monspec.model import Model, build_model
from monspec.render import render_all
from monspec.spec import SpecSet, load_specs


@dataclass
class Build:
    model: Model
    problems: list[Problem]  # warnings (errors raise)
    files: dict[str, bytes]

    @property
    def specs(self) -> SpecSet:
        return self.model.specs


def lint_model(specs_dir: Path) -> tuple[Model, list[Problem]]:
    with cycle_collection_paused():
        model = build_model(load_specs(specs_dir))
        return model, run_lint(model)


def lint_specs(specs_dir: Path) -> tuple[SpecSet, list[Problem]]:
    model, problems = lint_model(specs_dir)
    return model.specs, problems


def compile_specs(specs_dir: Path) -> Build:
    """Everything `generate` writes; SpecError when any lint error stands in the way."""
    with cycle_collection_paused():  # one pause over lint and render (lint_model's own nests in it)
        model, problems = lint_model(specs_dir)
        if any(p.severity == "error" for p in problems):
            raise SpecError(problems)
        return Build(model, problems, render_all(model))
