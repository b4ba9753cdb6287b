"""Golden-file comparison: a unified diff on failure, rewritten with --update-golden."""
from __future__ import annotations

import difflib
from pathlib import Path

import pytest


def assert_golden(actual: str | bytes, golden: Path, update: bool) -> None:
    if isinstance(actual, bytes):
        actual = actual.decode("utf-8")
    if update:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    if not golden.exists():
        pytest.fail(f"golden file {golden} is missing: run `pytest --update-golden` and review it")
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"{golden} (golden)", "actual"))
        pytest.fail(f"output differs from {golden} (rerun with --update-golden if intended):\n{diff}")


def assert_golden_tree(files: dict[str, bytes], golden_dir: Path, update: bool) -> None:
    """Every file compared, and no golden file left over that is no longer produced."""
    if update:
        for old in golden_dir.rglob("*"):
            if old.is_file() and old.relative_to(golden_dir).as_posix() not in files:
                old.unlink()
    for rel, data in files.items():
        assert_golden(data, golden_dir / rel, update)
    if not update:
        extra = sorted(p.relative_to(golden_dir).as_posix() for p in golden_dir.rglob("*") if p.is_file()
                       and p.relative_to(golden_dir).as_posix() not in files)
        assert not extra, f"golden files no longer produced: {extra} (rerun with --update-golden)"
