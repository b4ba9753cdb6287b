"""docs/faults.md is the fault table of monspec.demo.faults, the one the live suite proves."""
from __future__ import annotations

from pathlib import Path

from golden import assert_golden
from monspec.demo.faults import FAULTS, markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "faults.md"


def test_the_faults_page_is_the_table(update_golden) -> None:
    assert_golden(markdown(), DOC, update_golden)


def test_every_fault_is_a_row_with_its_alerts() -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| ") and not line.startswith(("| Fault", "| ---"))]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == ["healthy", *(f.name for f in FAULTS)]
    for fault, row in zip(FAULTS, rows[1:], strict=True):
        for alert in (*fault.fires, *fault.muted):
            assert f"`{alert}`" in row


def test_rows_whose_alerts_outlast_the_recovery_run_last() -> None:
    """The live suite runs the rows in order on one stack: a row whose slow alerts stay pending
    for minutes after its recovery would leave the next row's quiet start unreachable."""
    slow = [fault.name for fault in FAULTS if fault.slow]
    assert slow == [fault.name for fault in FAULTS[len(FAULTS) - len(slow):]]
