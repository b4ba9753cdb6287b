"""generated/prometheus/rules.yml: the recording rules and alerts of `monspec.model.rules`."""
from __future__ import annotations

from collections.abc import Sequence

from monspec.model import Model
from monspec.model.rules import RuleGroup
from monspec.render.templates import render_template

RULES_PATH = "prometheus/rules.yml"


def render_groups(model: Model, groups: Sequence[RuleGroup]) -> str:
    """Rule groups as a Prometheus rule file, through the project's `rules.yml.j2`."""
    return render_template(model.specs, "rules.yml.j2", groups=groups)


def render_rules_text(model: Model) -> str:
    """rules.yml's text, rendered once per model (the PrometheusRule embeds it too)."""
    if __name__ not in model.memo:
        model.memo[__name__] = render_groups(model, model.groups)
    return model.memo[__name__]


def render(model: Model) -> dict[str, str]:
    return {RULES_PATH: render_rules_text(model)}
