"""The one YAML writer of generated files: scalars written so that they load back exactly as given,
and `emit` for nested data.

Spec content is data, never template code: every string reaches the output through
`scalar()`, which picks a readable style (plain, block, quoted) and proves by
loading it back that the text is exactly what the spec said.
"""
from __future__ import annotations

import json
import math
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
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if _plain_word(text):
        return text
    if _NEEDS_ESCAPE.search(text):
        return double_quoted(text)
    return (_one_line(text) if "\n" not in text else _literal_lines(text, indent)) or _proved(text, indent)


def _proved(text: str, indent: int) -> str:
    """The first candidate style that loads back as the text: the proof `_one_line` and
    `_literal_lines` shortcut."""
    for candidate in _candidates(text, indent):
        if _loads_back(candidate, text, indent):
            return candidate
    return double_quoted(text)


# A one-line text of printable ASCII that starts with a letter, `_`, `(`, `/` or `$`: never a
# number, timestamp, null or merge key to a YAML 1.1 resolver, and no indicator at its start.
_ONE_LINE = re.compile(r"[A-Za-z_(/$][\x20-\x7e]*")
_LINES = re.compile(r"[\x20-\x7e\n]*")  # printable ASCII and newlines


def _literal_lines(text: str, indent: int) -> str | None:
    """The block scalar `_proved` picks for printable-ASCII lines, when YAML's rules settle it: a
    literal block keeps every character, so only its indentation can go wrong: its first line
    with text must not start with a space (the block's indentation is read from it). None for
    the rest."""
    if not _LINES.fullmatch(text) or text.lstrip("\n").startswith(" "):
        return None
    return _block(text, indent)


def _one_line(text: str) -> str | None:
    """The style `_proved` picks, decided by YAML's plain-scalar rules instead of a parser, for the
    texts those rules settle (most of generated YAML: expressions, summaries, test names): plain
    unless `: ` or ` #` would end it early or a trailing `:` make it a key, then single-quoted.
    None for the rest, which are proved by loading."""
    if not _ONE_LINE.fullmatch(text) or text[-1] == " " or text.lower() in _YAML_WORDS:
        return None
    if ": " in text or " #" in text or text[-1] == ":":
        return "'" + text.replace("'", "''") + "'"
    return text


def _candidates(text: str, indent: int):
    if "\n" not in text and text and text == text.strip() and "\t" not in text:
        yield text  # kept only when it loads back as the same string
    block = _block(text, indent)
    if block is not None:
        yield block
    if "\n" not in text:
        yield "'" + text.replace("'", "''") + "'"


def _block(text: str, indent: int) -> str | None:
    """The text as a literal block scalar (`|`, with the chomping its trailing newlines need), or
    None when it has one line, a tab, a leading space or a line ending in spaces."""
    if "\n" not in text.rstrip("\n") or "\t" in text or text.startswith(" "):
        return None
    chomp = "-" if not text.endswith("\n") else ("" if not text.endswith("\n\n") else "+")
    body = text[:-1] if text.endswith("\n") and chomp == "" else text
    if chomp == "+":
        body = text[:-1]
    pad = " " * (indent + 2)
    lines = body.split("\n")
    if not all(line == line.rstrip() for line in lines):
        return None
    return "|" + chomp + "\n" + "\n".join(pad + line if line else "" for line in lines)


def _loads_back(candidate: str, text: str, indent: int) -> bool:
    doc = " " * indent + "k: " + candidate + "\n"
    try:
        loaded = yaml.load(doc, Loader=_LOADER)
    except (yaml.YAMLError, ValueError, OverflowError):  # e.g. `!!int x` reads as a tag, then fails
        return False
    return isinstance(loaded, dict) and loaded.get("k") == text


@lru_cache(maxsize=4096)
def key(name: str) -> str:
    """A mapping key: plain when safe, quoted otherwise."""
    if _plain_word(name):
        return name
    if name and set(name) <= _KEY_SAFE and _loads_back(name, name, 0) and yaml.load(f"{name}: 0", Loader=_LOADER) == {name: 0}:
        return name
    return double_quoted(name)


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
            if isinstance(item, dict) and item:
                body = emit(item, indent + 2)
                lines.append(f"{pad}- {body[indent + 2:]}")
            else:
                lines.append(f"{pad}- {_scalar(item, indent + 2)}\n")
    return "".join(lines)


def _scalar(value: Any, indent: int) -> str:
    if value == [] or value == {}:
        return "[]" if value == [] else "{}"
    return scalar(value, indent)


# Characters YAML does not let stand as they are inside double quotes (all but its printable ones:
# \x20-\x7e, \xa0-\u2027, \u202a-\ud7ff, \ue000-\ufefe, \uff00-\ufffd, \U00010000-\U0010ffff): they are
# escaped, so control characters, NEL, line and paragraph separators and a BOM never reach a parser raw.
# Written as the small complement: the class of the printable ranges took 15 ms to compile, every run.
_UNPRINTABLE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"  # but the newline
_ESCAPED = re.compile(f"[\n{_UNPRINTABLE}]")
_NEEDS_ESCAPE = re.compile(f"[{_UNPRINTABLE}]")  # a newline alone can stay: a block scalar carries it
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def double_quoted(text: str) -> str:
    """A YAML double-quoted scalar for any text: printable characters as they are (non-BMP ones too,
    never as surrogate pairs), everything else as an escape every YAML parser reads back."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif not _ESCAPED.match(ch):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
    return '"' + "".join(out) + '"'
