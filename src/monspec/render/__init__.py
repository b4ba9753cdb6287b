"""Renderers: each module turns the spec set into one output format.

`render_all` returns every output file as bytes keyed by its path under the output
folder; writing them (atomically) is `monspec.output`'s job.
"""
from __future__ import annotations

import importlib
from functools import lru_cache

import jinja2

from monspec.render import yamltext
from monspec.spec import SpecSet

# Each module has `render(specs) -> dict[str, str]` (relative path -> text).
RENDERERS = ("rules", "kubernetes", "prometheus_config")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Templates are package data; spec strings only ever enter them as values through `yaml`."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monspec", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml"] = lambda value, indent=0: yamltext.scalar(value, indent)
    env.filters["key"] = yamltext.key
    return env


def render_template(name: str, **context) -> str:
    return environment().get_template(name).render(**context)


def render_all(specs: SpecSet) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name in RENDERERS:
        module = importlib.import_module(f"monspec.render.{name}")
        for path, text in module.render(specs).items():
            if not text.endswith("\n"):
                text += "\n"
            files[path] = text.encode("utf-8")
    return dict(sorted(files.items()))
