"""`monspec schema`: the JSON Schema editors use accepts every bundled spec file and rejects
what the loader rejects, so an editor never flags a valid spec or misses a typo."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parent.parent.parent
SPEC_FILES = sorted((REPO / "specs").rglob("*.yaml")) + sorted((REPO / "tests" / "fixtures" / "golden_specs").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    result = subprocess.run([sys.executable, "-m", "monspec.cli", "schema"], capture_output=True, text=True, check=True)
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("path", SPEC_FILES, ids=[str(p.relative_to(REPO)) for p in SPEC_FILES])
def test_bundled_spec_files_are_valid(validator, path: Path) -> None:
    assert [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))] == []


@pytest.mark.parametrize("doc,fragment", [
    ({"alerts": {"a": {"expr": "up", "severty": "warning", "severity": "warning", "summary": "s", "description": "d"}}},
     "'severty' was unexpected"),
    ({"kpis": {"k": {"expr": "up", "unit": "ratio", "description": "d", "for": "5 minutes"}}}, "'5 minutes' does not match"),
    ({"kpis": {"k": {"expr": "up", "unit": "ratio", "description": "d", "target": ">50 per cycle"}}}, "'>50 per cycle' is not valid"),
    ({"alerts": {"a": {"expr": "up", "severity": "page", "summary": "s", "description": "d"}}}, "'page' is not one of"),
    ({"metrics": {"m": {"type": "summary", "unit": "seconds", "help": "h"}}}, "'summary' is not one of"),
])
def test_schema_rejects_what_the_loader_rejects(validator, doc: dict, fragment: str) -> None:
    messages = [e.message for e in validator.iter_errors(doc)]
    assert any(fragment in m for m in messages), messages


def test_schema_can_be_written_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "spec.schema.json"
    subprocess.run([sys.executable, "-m", "monspec.cli", "schema", "--out", str(out)], check=True)
    schema = json.loads(out.read_text())
    assert schema["title"] == "monspec spec file"
    assert set(schema["properties"]) >= {"project", "metrics", "recording_rules", "kpis", "alerts",
                                         "dashboards", "routing"}
