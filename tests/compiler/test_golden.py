"""Every generated file of the fixture spec set against its golden copy (pytest --update-golden)."""
from __future__ import annotations

from pathlib import Path

from golden import assert_golden_tree
from monspec.build import compile_specs

HERE = Path(__file__).parent.parent
FIXTURE = HERE / "fixtures" / "golden_specs"
GOLDEN = HERE / "golden" / "golden_specs"


def test_fixture_specs_match_golden_files(update_golden: bool) -> None:
    build = compile_specs(FIXTURE)
    assert_golden_tree(build.files, GOLDEN, update_golden)
