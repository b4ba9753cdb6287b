"""generated/prometheus/rules.yml: the recording rules and alerts of `monspec.model.rules`."""
from __future__ import annotations

from monspec.model.rules import rule_groups
from monspec.render import render_template
from monspec.spec import SpecSet

RULES_PATH = "prometheus/rules.yml"


def render_rules_text(specs: SpecSet) -> str:
    return render_template("rules.yml.j2", groups=rule_groups(specs))


def render(specs: SpecSet) -> dict[str, str]:
    return {RULES_PATH: render_rules_text(specs)}
