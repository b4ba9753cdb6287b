"""generated/kubernetes/prometheusrule.yaml: a PrometheusRule holding exactly rules.yml's groups.

The groups are rules.yml's own text, indented under `spec:`, so the two cannot drift.
"""
from __future__ import annotations

from monspec.model import Model
from monspec.render import yamltext
from monspec.render.rules import render_rules_text

PATH = "kubernetes/prometheusrule.yaml"


def render(model: Model) -> dict[str, str]:
    project = model.specs.project
    head = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": project.name, "labels": {
            "app.kubernetes.io/name": project.name, "app.kubernetes.io/managed-by": "monspec",
            **dict(sorted(project.labels.items()))}},
    }
    spec = "".join(("  " + line) if line.strip() else line for line in render_rules_text(model).splitlines(keepends=True))
    return {PATH: yamltext.emit(head) + "spec:\n" + spec}
