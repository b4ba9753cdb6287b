"""generated/prometheus/rules_test.yml: the promtool unit tests that monspec.promtest plans."""
from __future__ import annotations

from monspec.promtest.scenarios import PATH, render_tests
from monspec.spec import SpecSet


def render(specs: SpecSet) -> dict[str, str]:
    return {PATH: render_tests(specs)}
