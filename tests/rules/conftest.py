"""Fixtures for the promtool rule tests: the real promtool, and the bundled specs compiled into a temp folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from monspec.build import compile_specs
from monspec.output import write_tree
from support.processes import require_program

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool; skipped locally when missing, a failure in CI (CI=true)."""
    return require_program("promtool")


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """`monspec generate` of the bundled specs, in a temp folder (never the committed generated/)."""
    out = tmp_path_factory.mktemp("generated")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        build = compile_specs(Path("specs"))
    finally:
        os.chdir(cwd)
    write_tree(out, build.files)
    return out
