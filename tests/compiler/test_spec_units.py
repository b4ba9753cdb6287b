"""Small pieces: threshold notation, durations, positions, YAML scalars that load back exactly."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monspec.render.yamltext import key, scalar
from monspec.spec.durations import format_duration, parse_duration
from monspec.spec.loader import load_text
from monspec.spec.thresholds import Range, Threshold, parse_threshold


@pytest.mark.parametrize("raw,parsed", [
    (">0.90", Threshold(">", 0.9)), ("<0.001", Threshold("<", 0.001)), ("==0", Threshold("==", 0.0)),
    (">= 5", Threshold(">=", 5.0)), (">95%", Threshold(">", 0.95)), ("70-90%", Range(0.7, 0.9)),
    ("0.2-0.4", Range(0.2, 0.4)), ("==1e-3", Threshold("==", 0.001)),
])
def test_threshold_notation(raw, parsed) -> None:
    assert parse_threshold(raw) == parsed


@pytest.mark.parametrize("raw,message", [
    (">50 per cycle", "cannot read threshold '>50 per cycle'"),
    ("90-70%", "range '90-70%' has its low end above its high end"),
    ([1], "expected a threshold such as"),
    (True, "expected a threshold such as"),
    # A bare number states no comparison (it used to mean `==`, an alert that never fires).
    (0.5, "threshold '0.5' has no comparison: write \">0.5\" when higher is worse or \"<0.5\""),
    (1, "threshold '1' has no comparison"),
    ("1e-3", "threshold '1e-3' has no comparison"),
])
def test_threshold_errors(raw, message) -> None:
    with pytest.raises(ValueError) as exc:
        parse_threshold(raw)
    assert message in str(exc.value)


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("1d", 86400)])
def test_durations(text, seconds) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["5 minutes", "m5", "", "5M", "30m1h"])
def test_bad_durations(text) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_loader_positions_of_keys_values_and_block_scalars() -> None:
    src = load_text(Path("x.yaml"), 'a:\n  b: "quoted"\n  c: |\n    line one\n    line two\n')
    assert str(src.position(("a", "b"))) == "x.yaml:2:6"
    assert str(src.position(("a", "b"), key=True)) == "x.yaml:2:3"
    assert str(src.position_in_scalar(("a", "b"), 2)) == "x.yaml:2:9"
    assert str(src.position_in_scalar(("a", "c"), len("line one\nline "))) == "x.yaml:5:10"
    assert str(src.position(("a", "missing", "deeper"))) == "x.yaml:2:3"  # nearest ancestor: the mapping under a


HOSTILE = [
    "plain", "a: b", "{{ $value | humanizePercentage }}", "it's \"quoted\"", "{% raw %}x{% endraw %}",
    "café — 日本語", "line\nnext\n", "no trailing\nnewline", "two trailing\n\n", " leading space",
    "trailing space ", "# not a comment", "- not a list", "yes", "null", "123", "1e3", "tab\there",
    "back\\slash", "", "multi\n  indented\n", "\ttab first\nline",
    # plain words, written without the load-back proof: YAML 1.1's booleans and null must be quoted
    "Yes", "NO", "On", "y", "N", "Null", "TRUE", "abc.def", "a-b/c", "_x", "severity", "e1",
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("indent", [0, 6, 10])
def test_scalar_loads_back_exactly(text: str, indent: int) -> None:
    doc = " " * indent + "k: " + scalar(text, indent) + "\n"
    assert yaml.safe_load(doc) == {"k": text}


@pytest.mark.parametrize("name", ["severity", "app.kubernetes.io/name", "yes", "on", "1", "with space"])
def test_key_loads_back(name: str) -> None:
    assert yaml.safe_load(f"{key(name)}: 0") == {name: 0}


def test_scalar_keeps_types_apart() -> None:
    assert [scalar(True), scalar(1), scalar(1.0), scalar("1"), scalar(None)] == ["true", "1", "1.0", "'1'", "null"]
