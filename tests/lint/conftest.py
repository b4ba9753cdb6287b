"""A small spec set to lint: `lint_specs(tmp_path, family, alerts=…)` writes it and returns the problems."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monspec.lint import run_lint
from monspec.model import build_model
from monspec.spec import load_specs
from support.lint_specs import CATALOG, PROJECT


class Linted:
    def __init__(self, problems):
        self.problems = problems

    def of(self, id: str) -> list[str]:
        """Each problem with that id as `file:line:col: severity: message`, plus its hint."""
        return [f"{p.position.file.name}:{p.position.line}:{p.position.col}: {p.severity}: {p.message}"
                + (f" | hint: {p.hint}" if p.hint else "") for p in self.problems if p.id == id]

    def rendered(self, id: str) -> list[str]:
        return [p.render().split(": ", 1)[1] for p in self.problems if p.id == id]


@pytest.fixture
def lint(tmp_path: Path):
    def run(families: tuple[str, ...], alerts: str = "", kpis: str = "", catalog: str = CATALOG) -> Linted:
        (tmp_path / "project.yaml").write_text(PROJECT)
        (tmp_path / "catalog.yaml").write_text(catalog)
        (tmp_path / "alerts.yaml").write_text(textwrap.dedent(alerts) if alerts else "alerts: {}\n")
        if kpis:
            (tmp_path / "kpis.yaml").write_text(textwrap.dedent(kpis))
        return Linted(run_lint(build_model(load_specs(tmp_path)), families))
    return run
