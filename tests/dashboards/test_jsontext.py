"""The dashboards' JSON writer (monspec.render.jsontext) writes exactly what `json.dumps` does with
indent=2, sorted keys and non-ASCII kept, on any JSON value."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monspec.render import jsontext

EXAMPLES = int(os.environ.get("MONSPEC_FUZZ_EXAMPLES", "40"))
SCALARS = st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40) \
    | st.floats(allow_nan=True, allow_infinity=True) | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                      max_leaves=30)


@settings(max_examples=EXAMPLES * 25, deadline=None)
@given(value=VALUES)
def test_writes_the_bytes_of_json_dumps(value) -> None:
    assert jsontext.dumps(value) == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("value", [{"a": {}, "b": [], "c": [{}], "é": "😀\u2028\x00\"\\"}, [1e-09, 1e309, -0.0, 10**20, True]])
def test_empty_containers_escapes_and_numbers(value) -> None:
    assert jsontext.dumps(value) == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("value, message", [({1: "a"}, "must be a string, not int"), ({"a": {1, 2}}, "set is not JSON")])
def test_what_json_cannot_hold_is_refused(value, message) -> None:
    with pytest.raises(TypeError, match=message):
        jsontext.dumps(value)
