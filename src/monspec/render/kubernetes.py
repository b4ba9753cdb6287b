"""generated/kubernetes/prometheusrule.yaml: a PrometheusRule holding exactly rules.yml's groups.

Name, namespace and the labels an operator's `ruleSelector` needs come from `project.kubernetes`.

The groups are rules.yml's own text, indented under `spec:`, so the two cannot drift.
"""
from __future__ import annotations

from monspec.model import Model
from monspec.render import yamltext
from monspec.render.rules import render_rules_text

PATH = "kubernetes/prometheusrule.yaml"


def render(model: Model) -> dict[str, str]:
    project = model.specs.project
    meta = project.kubernetes
    own = {"app.kubernetes.io/name": project.name, "app.kubernetes.io/managed-by": "monspec"}
    # The project's alert labels, then the manifest's own (a ruleSelector's `release: prometheus`).
    extra = {k: v for k, v in sorted({**project.labels, **meta.labels}.items()) if k not in own}
    metadata: dict = {"name": meta.name or project.name}
    if meta.namespace:
        metadata["namespace"] = meta.namespace
    metadata["labels"] = {**own, **extra}
    head = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": metadata}
    spec = "".join(("  " + line) if line.strip() else line for line in render_rules_text(model).splitlines(keepends=True))
    return {PATH: yamltext.emit(head) + "spec:\n" + spec}
