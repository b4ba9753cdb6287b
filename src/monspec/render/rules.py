"""generated/prometheus/rules.yml: the recording rules and alerts of `monspec.model.rules`."""
from __future__ import annotations

from monspec.model import Model
from monspec.render.templates import render_template

RULES_PATH = "prometheus/rules.yml"


def render_rules_text(model: Model) -> str:
    return render_template("rules.yml.j2", groups=model.groups)


def render(model: Model) -> dict[str, str]:
    return {RULES_PATH: render_rules_text(model)}
