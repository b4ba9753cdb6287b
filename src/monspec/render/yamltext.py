"""The one YAML writer of generated files: scalars written so that they load back exactly as given,
and `emit` for nested data.

Spec content is data, never template code: every string reaches the output through
`scalar()`, which picks a readable style (plain, block, quoted) and proves by
loading it back that the text is exactly what the spec said.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KEY_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./")
# A word that starts with a letter and holds only these characters is a plain YAML string,
# unless it is one of YAML 1.1's booleans or null: no proof by loading needed.
_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _plain_word(text: str) -> bool:
    return _PLAIN_WORD.fullmatch(text) is not None and text.lower() not in _YAML_WORDS


@lru_cache(maxsize=65536, typed=True)  # typed: True and 1 are different scalars
def scalar(value: object, indent: int = 0) -> str:
    """YAML text for value at a mapping value position whose key is indented by `indent` spaces."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if _plain_word(text):
        return text
    for candidate in _candidates(text, indent):
        if _loads_back(candidate, text, indent):
            return candidate
    return json.dumps(text, ensure_ascii=False)


def _candidates(text: str, indent: int):
    if "\n" not in text and text and text == text.strip() and "\t" not in text:
        yield text  # kept only when it loads back as the same string
    if "\n" in text.rstrip("\n") and "\t" not in text and not text.startswith(" "):
        chomp = "-" if not text.endswith("\n") else ("" if not text.endswith("\n\n") else "+")
        body = text[:-1] if text.endswith("\n") and chomp == "" else text
        if chomp == "+":
            body = text[:-1]
        pad = " " * (indent + 2)
        lines = body.split("\n")
        if all(line == line.rstrip() for line in lines):
            yield "|" + chomp + "\n" + "\n".join(pad + line if line else "" for line in lines)
    if "\n" not in text:
        yield "'" + text.replace("'", "''") + "'"
    yield json.dumps(text, ensure_ascii=False)


def _loads_back(candidate: str, text: str, indent: int) -> bool:
    doc = " " * indent + "k: " + candidate + "\n"
    try:
        loaded = yaml.load(doc, Loader=_LOADER)
    except yaml.YAMLError:
        return False
    return isinstance(loaded, dict) and loaded.get("k") == text


@lru_cache(maxsize=4096)
def key(name: str) -> str:
    """A mapping key: plain when safe, quoted otherwise."""
    if _plain_word(name):
        return name
    if name and set(name) <= _KEY_SAFE and _loads_back(name, name, 0) and yaml.load(f"{name}: 0", Loader=_LOADER) == {name: 0}:
        return name
    return json.dumps(name)


def emit(value: Any, indent: int = 0) -> str:
    """Block-style YAML for nested dicts and lists (empty ones as `[]` / `{}`), every key and scalar
    through `key` / `scalar`: the one writer of generated YAML data."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{key(k)}:\n{emit(v, indent + 2)}")
            else:
                lines.append(f"{pad}{key(k)}: {_scalar(v, indent)}\n")
    else:
        for item in value:
            if isinstance(item, dict):
                body = emit(item, indent + 2)
                lines.append(f"{pad}- {body[indent + 2:]}")
            else:
                lines.append(f"{pad}- {_scalar(item, indent + 2)}\n")
    return "".join(lines)


def _scalar(value: Any, indent: int) -> str:
    if value == [] or value == {}:
        return "[]" if value == [] else "{}"
    return scalar(value, indent)
