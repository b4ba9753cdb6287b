"""Property tests of hostile input: the YAML writer reads back any text exactly, and any mutation of a
valid spec set either compiles to output that YAML, promtool and amtool accept, or fails with located
problems and no traceback.

A bounded number of examples runs in CI; MONSPEC_FUZZ_EXAMPLES=5000 runs more.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monspec.build import compile_specs
from monspec.errors import MonspecError
from monspec.render.yamltext import key, scalar
from support.processes import require_program

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "golden_specs"
EXAMPLES = int(os.environ.get("MONSPEC_FUZZ_EXAMPLES", "40"))
UNLOCATED = {"spec/no-project"}  # problems about the spec set as a whole, not a place in a file

# Text that has broken YAML writers, template engines or parsers before.
NASTY = ["", " ", "\n", "a\nb", "{{", "{{ $value }}", "}}", "{%", "<script>x</script>", "\x7f", "\x85", "\u2028",
         "\ufeff", "😀", "[", "a[0]", "=", "~", "null", "-.inf", ".nan", "1e309", "99999y", "0s", "1y", "a: b",
         "- x", "&a", "*a", "!!int x", "%", "70-90%", ">1e400", "sum(", "up == 0", "x{a=\"b\"}", "__name__",
         "$labels", "\t", "\x00", "a" * 300, "9" * 400, "yes", "on", "'", '"', "\\", "#"]
SCALARS = st.one_of(
    st.sampled_from(NASTY), st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.none())
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(NASTY) | st.text(max_size=10), inner, max_size=3), max_leaves=6)
SPECS = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(FIXTURE.glob("*.yaml"))}


@settings(max_examples=EXAMPLES * 25, deadline=None)
@given(text=st.text() | st.sampled_from(NASTY), indent=st.sampled_from([0, 2, 6]))
def test_the_yaml_writer_reads_back_any_text(text: str, indent: int) -> None:
    doc = " " * indent + "k: " + scalar(text, indent) + "\n"
    assert yaml.safe_load(doc) == {"k": text}
    assert "\\ud8" not in scalar(text, indent).lower()  # never a surrogate pair for non-BMP text
    assert yaml.safe_load(key(text) + ": 0\n") == {text: 0}


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, prefix + (i,))
    return found


@st.composite
def mutated_spec_set(draw) -> tuple[str, str]:
    """One fixture file with one value replaced, one key renamed, or one entry deleted: (file name, text)."""
    name = draw(st.sampled_from(sorted(SPECS)))
    data = copy.deepcopy(SPECS[name])
    path = draw(st.sampled_from(_paths(data)))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    action = draw(st.sampled_from(["replace", "replace", "rename", "delete"]))
    if action == "rename" and isinstance(parent, dict):
        parent[draw(st.sampled_from(NASTY) | st.text(max_size=10))] = parent.pop(path[-1])
    elif action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(VALUES)
    return name, yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _accepts(build_files: dict[str, bytes], out: Path) -> None:
    """Every output file parses, promtool accepts the rules and passes their generated tests, amtool the
    routing where there is any."""
    for rel, data in build_files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
        if rel.endswith((".yml", ".yaml")):
            yaml.safe_load(data)
        elif rel.endswith(".json"):
            json.loads(data)
    checks = [[require_program("promtool"), "check", "rules", str(out / "prometheus" / "rules.yml")]]
    # A spec set without routing (`routing: null`) gets no Alertmanager config, by design.
    if "alertmanager/alertmanager.yml" in build_files:
        checks.append([require_program("amtool"), "check-config", str(out / "alertmanager" / "alertmanager.yml")])
    tests = sorted(str(path) for path in (out / "prometheus" / "tests").glob("*.yml"))
    if tests:
        checks.append([checks[0][0], "test", "rules", *tests])
    for argv in checks:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
@given(case=mutated_spec_set())
def test_a_mutated_spec_set_compiles_to_valid_output_or_fails_located(case: tuple[str, str], tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    name, text = case
    work = tmp_path / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(FIXTURE, work / "specs")
    (work / "specs" / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(work)
    try:
        build = compile_specs(Path("specs"))
    except MonspecError as exc:
        for problem in exc.problems:
            assert problem.position is not None or problem.id in UNLOCATED, problem.render()
            assert "Traceback" not in problem.render()
        return
    # An Alertmanager config exactly when the specs route alerts somewhere.
    assert ("alertmanager/alertmanager.yml" in build.files) == (build.specs.routing is not None)
    _accepts(build.files, work / "out")


# Characters that change how YAML reads a line, and words its resolver turns into other types.
YAML_SIGNIFICANT = st.text(alphabet=st.sampled_from(list(" :#-?,[]{}&*!|>'\"%@`~=<._($/0123456789aeEnoNyYt\\\t\n")),
                           max_size=12) | st.sampled_from(NASTY)


@settings(max_examples=EXAMPLES * 50, deadline=None)
@example(text=" x", head="\n", indent=0)  # the block's indentation would be read from " x"
@example(text="\nb\n\n", head="a", indent=2)  # kept trailing newlines
@example(text="a: b #c", head="", indent=0)
@given(text=YAML_SIGNIFICANT, head=st.sampled_from(["", "a", "Z", "_", "(", "/", "$", "y", "n", "O", "t", "\n", " "]),
       indent=st.sampled_from([0, 2, 6]))
def test_the_plain_and_block_scalar_rules_pick_what_loading_back_proves(text: str, head: str, indent: int) -> None:
    """`_one_line` and `_literal_lines` (YAML's scalar rules, no parser) settle a text only as the
    proof by loading would."""
    from monspec.render.yamltext import _literal_lines, _one_line, _proved

    text = head + text
    settled = _one_line(text) if "\n" not in text else _literal_lines(text, indent)
    if settled is not None:
        assert settled == _proved(text, indent)
