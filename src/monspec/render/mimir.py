"""generated/mimir/<project>.yml: rules.yml's groups as one ruler namespace, for
`mimirtool rules sync` / `load` (Grafana Mimir, Cortex), whose files name their namespace.

The groups are rules.yml's own text under a `namespace:` key, so the two cannot drift; Thanos
ruler and vmalert load rules.yml itself.
"""
from __future__ import annotations

from monspec.model import Model
from monspec.render import yamltext
from monspec.render.rules import render_rules_text


def render(model: Model) -> dict[str, str]:
    name = model.specs.project.name
    text = yamltext.emit({"namespace": name}) + render_rules_text(model)
    return {f"mimir/{_file_name(name)}.yml": text}


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
