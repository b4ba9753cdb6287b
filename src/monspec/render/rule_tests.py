"""generated/prometheus/rules_test.yml: the promtool unit tests that monspec.promtest plans."""
from __future__ import annotations

from monspec.model import Model
from monspec.promtest.scenarios import PATH, render_tests


def render(model: Model) -> dict[str, str]:
    return {PATH: render_tests(model)}
