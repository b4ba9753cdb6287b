"""The Jinja environment of the text artifacts; spec strings only ever enter templates as values."""
from __future__ import annotations

from functools import lru_cache

import jinja2

from monspec.render import yamltext


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
