"""JSON Schema of a spec file, for `# yaml-language-server: $schema=…` in editors."""
from __future__ import annotations

from monspec.spec.models import SpecFile


def spec_schema() -> dict:
    schema = SpecFile.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "monspec spec file"
    return schema
