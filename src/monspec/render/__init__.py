"""Renderers: each module turns the spec set into one output format.

`render_all` returns every output file as bytes keyed by its path under the output
folder; writing them (atomically) is `monspec.output`'s job.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

import jinja2

from monspec.model import Model
from monspec.render import yamltext


def renderer_modules() -> list[str]:
    """Every module of this package with `render(specs) -> dict[str, str]` (relative path -> text)."""
    names = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "render", None)):
            names.append(info.name)
    return sorted(names)


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


def render_all(model: Model) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name in renderer_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        for path, text in module.render(model).items():
            if path in files:
                raise ValueError(f"two renderers write {path}")
            if not text.endswith("\n"):
                text += "\n"
            files[path] = text.encode("utf-8")
    return dict(sorted(files.items()))
