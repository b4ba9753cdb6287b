"""The one JSON writer of generated files (the dashboards): the bytes of
`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`, built twice as fast.

Python's encoder only uses its C half without `indent`; with it every value goes through a
generator chain in pure Python, which was the largest part of rendering 100 services'
dashboards (46 MB). Here each container is one join over its encoded members, strings go
through the C string encoder, and numbers are written as `json` writes them.
"""
from __future__ import annotations

import math
from json.encoder import encode_basestring  # the C function when built in
from typing import Any


def dumps(value: object) -> str:
    """Indented (2 spaces), keys sorted, non-ASCII as it is; NaN and infinities as `json` writes them."""
    return _encode(value, "")


def _encode(value: Any, indent: str) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = indent + "  "
        return ("{\n" + inner + (",\n" + inner).join([encode_basestring(k) + ": " + _encode(v, inner)  # a key not a str: TypeError
                                                        for k, v in sorted(value.items())])
                + "\n" + indent + "}")
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = indent + "  "
        return "[\n" + inner + (",\n" + inner).join([_encode(v, inner) for v in value]) + "\n" + indent + "]"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if math.isfinite(value):
            return float.__repr__(value)
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    raise TypeError(f"{kind.__name__} is not JSON: {value!r:.80}")
