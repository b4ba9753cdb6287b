"""Every check id the lint families of this package report has a section in docs/lint.md."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("syntax", "references", "types", "ranges", "units", "hygiene", "aggregation", "alerts", "thresholds", "components")
ID = re.compile(r'"((?:promql|alert|kpi|catalog|spec)/[a-z-]+)"')


def test_every_check_id_is_documented() -> None:
    doc = (ROOT / "docs" / "lint.md").read_text()
    headings = set(re.findall(r"^## (.+)$", doc, re.M))
    documented = {id for heading in headings for id in re.findall(r"((?:promql|alert|kpi|catalog|spec)/[a-z-]+)", heading)}
    ids = set()
    for family in FAMILIES:
        ids |= set(ID.findall((ROOT / "src" / "monspec" / "lint" / f"{family}.py").read_text()))
    assert len(ids) >= 20
    assert ids - documented == set()
