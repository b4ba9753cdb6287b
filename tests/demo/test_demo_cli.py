"""`monspec demo` without a running stack: the fault list, a usage error for an unknown fault,
and a located message (not a traceback) when the work folder holds no demo."""
from __future__ import annotations

from click.testing import CliRunner

from monspec.cli import main
from monspec.demo.faults import FAULTS


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_fault_without_a_name_lists_the_table() -> None:
    result = run("demo", "fault")
    assert result.exit_code == 0
    assert result.output == "faults: " + ", ".join(f.name for f in FAULTS) + "; recover repairs any of them\n"


def test_an_unknown_fault_is_a_usage_error() -> None:
    result = run("demo", "fault", "disk-full")
    assert result.exit_code == 2
    assert "unknown fault 'disk-full'" in result.output


def test_stop_without_a_demo_says_where_it_looked(tmp_path) -> None:
    result = run("demo", "stop", "--workdir", str(tmp_path))
    assert result.exit_code == 1
    assert f"no demo in {tmp_path.resolve()} (no demo.json): start one with `monspec demo start`" in result.output
    assert "Traceback" not in result.output
