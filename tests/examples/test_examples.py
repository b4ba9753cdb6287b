"""Every spec set under examples/ compiles without a lint problem, its committed generated/ is fresh,
and `monspec test` passes on it with every rule covered by a generated test (CI runs this via make test)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monspec.build import compile_specs
from monspec.cli import main
from monspec.output import diff_tree
from support.processes import require_program

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/specs"))


def test_there_is_an_example_beyond_the_cache() -> None:
    assert [p.name for p in EXAMPLES] == ["http-api"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_compiles_clean_and_its_output_is_fresh(example: Path) -> None:
    build = compile_specs(example / "specs")
    assert [p.render() for p in build.problems] == []
    assert diff_tree(example / "generated", build.files) == [], f"run `make generate` ({example.name} is stale)"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_passes_monspec_test_with_every_rule_covered(example: Path) -> None:
    require_program("promtool")
    require_program("amtool")
    result = CliRunner().invoke(main, ["test", "--specs", str(example / "specs"), "--out", str(example / "generated")])
    assert result.exit_code == 0, result.output
    assert "ok   generated tests cover every rule\n" in result.output
    tests = sorted((example / "generated" / "prometheus" / "tests").glob("*.yml"))
    assert tests and not [t.name for t in tests if "# Not covered" in t.read_text()]
