"""The check registry (monspec.checks) is the one list: lint reports only its ids, and docs/lint.md
has a section, with the same severity, for every one of them."""
from __future__ import annotations

import re
from pathlib import Path

from monspec.checks import BY_ID, CHECKS

ROOT = Path(__file__).resolve().parents[2]
ID = re.compile(r'"((?:promql|alert|kpi|dashboard|routing|rule-group|rule|catalog|spec|test)/[a-z-]+)"')


def test_every_registered_check_has_a_section_with_its_severity() -> None:
    doc = (ROOT / "docs" / "lint.md").read_text()
    documented = {(id, severity) for heading in re.findall(r"^## (.+)$", doc, re.M)
                  for id, severity in re.findall(r"([a-z-]+/[a-z-]+) \((error|warning)\)", heading)}
    assert {(c.id, c.severity) for c in CHECKS} - documented == set()
    assert {id for id, _ in documented} - set(BY_ID) == set()


def test_every_id_the_lint_families_write_is_registered() -> None:
    written = set()
    for module in (ROOT / "src" / "monspec" / "lint").glob("*.py"):
        written |= set(ID.findall(module.read_text()))
    assert len(written) >= 30
    assert written - set(BY_ID) == set()
