"""generated/mimir/<project>.yml is rules.yml as one ruler namespace: the same groups, named."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_namespace_file_holds_exactly_the_rules_yml_groups() -> None:
    rules = yaml.safe_load((ROOT / "generated" / "prometheus" / "rules.yml").read_text())
    namespace = yaml.safe_load((ROOT / "generated" / "mimir" / "unified-cache.yml").read_text())
    assert namespace == {"namespace": "unified-cache", **rules}
    names = [group["name"] for group in namespace["groups"]]
    assert len(names) == len(set(names))
