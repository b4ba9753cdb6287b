"""Helpers for routing tests: a copy of the fixture spec set with one file replaced."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent.parent / "fixtures" / "golden_specs"


@pytest.fixture
def spec_copy(tmp_path: Path, monkeypatch):
    """specs/ (a copy of the fixture) under tmp_path, cwd there, so problems read `specs/routing.yaml:…`."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(FIXTURE, tmp_path / "specs")

    def write(name: str, text: str) -> Path:
        path = tmp_path / "specs" / name
        path.write_text(text)
        return Path("specs")

    return write
