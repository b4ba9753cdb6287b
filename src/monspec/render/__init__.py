"""Renderers: each module turns the compiled model into output files, listed explicitly in RENDERERS.

`render_all` returns every output file as bytes keyed by its path under the output
folder; writing them (atomically) is `monspec.output`'s job.
"""
from __future__ import annotations

from monspec.model import Model
from monspec.render import (
    alertmanager,
    dashboards,
    docs,
    kubernetes,
    mimir,
    prometheus_config,
    provisioning,
    rule_tests,
    rules,
)

RENDERERS = (alertmanager, dashboards, docs, kubernetes, mimir, prometheus_config, provisioning, rule_tests, rules)


def render_all(model: Model) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for module in RENDERERS:
        for path, text in module.render(model).items():
            if path in files:
                raise ValueError(f"two renderers write {path}")
            if not text.endswith("\n"):
                text += "\n"
            files[path] = text.encode("utf-8")
    return dict(sorted(files.items()))
