"""generated/kubernetes/prometheusrule.yaml: a PrometheusRule holding exactly rules.yml's groups.

Name, namespace and the labels an operator's `ruleSelector` needs come from `project.kubernetes`.

The groups are rules.yml's own text, indented under `spec:`, so the two cannot drift.
"""
from __future__ import annotations

from monspec.model import Model
from monspec.render import yamltext
from monspec.render.rules import render_rules_text
from monspec.render.templates import YAML_HEADER

PATH = "kubernetes/prometheusrule.yaml"


def render(model: Model) -> dict[str, str]:
    specs = model.specs
    project = specs.project
    rules = render_rules_text(model)
    body = "\n".join(line for line in rules.splitlines() if not line.startswith("#"))
    spec = "\n".join(("  " + line) if line else line for line in body.splitlines())
    meta = project.kubernetes
    # The project's alert labels, then the manifest's own (a ruleSelector's `release: prometheus`).
    extra = {**project.labels, **meta.labels}
    labels = "".join(f"    {yamltext.key(k)}: {yamltext.scalar(v, 4)}\n" for k, v in sorted(extra.items())
                     if k not in ("app.kubernetes.io/name", "app.kubernetes.io/managed-by"))
    namespace = f"  namespace: {yamltext.scalar(meta.namespace, 2)}\n" if meta.namespace else ""
    text = (
        f"{YAML_HEADER}"
        "apiVersion: monitoring.coreos.com/v1\n"
        "kind: PrometheusRule\n"
        "metadata:\n"
        f"  name: {yamltext.scalar(meta.name or project.name, 2)}\n"
        f"{namespace}"
        "  labels:\n"
        f"    app.kubernetes.io/name: {yamltext.scalar(project.name, 4)}\n"
        "    app.kubernetes.io/managed-by: monspec\n"
        f"{labels}"
        "spec:\n"
        f"{spec}\n"
    )
    return {PATH: text}
