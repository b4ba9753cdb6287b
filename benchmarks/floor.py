"""The floor `monspec generate` is measured against: import the libraries, write the same files.

    python -m benchmarks.floor PREPARED.json OUT_DIR

PREPARED.json holds the output tree as data (YAML files parsed, dashboards as JSON objects,
text as text), made once by `prepare`. The floor imports the third-party libraries generate
needs, serialises each file with them and swaps the tree in with one rename: everything
generate must do besides understanding the specs.
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

# The libraries a generate run needs (pyproject's dependencies that the compiler uses).
LIBRARIES = ("click", "yaml", "jinja2", "pydantic", "grafanalib.core", "promql_parser")


def prepare(out_dir: Path) -> dict[str, list]:
    """The generated tree as [kind, data] per path: what the floor writes back."""
    import yaml

    prepared: dict[str, list] = {}
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        rel, text = path.relative_to(out_dir).as_posix(), path.read_text()
        if path.suffix in (".yml", ".yaml"):
            prepared[rel] = ["yaml", yaml.safe_load(text)]
        elif path.suffix == ".json":
            prepared[rel] = ["json", json.loads(text)]
        else:
            prepared[rel] = ["text", text]
    return prepared


def write(prepared: dict[str, list], out_dir: Path) -> None:
    yaml = importlib.import_module("yaml")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when built in: the cheapest writer
    tmp = Path(tempfile.mkdtemp(prefix=".floor-", dir=out_dir.parent))
    for rel, (kind, data) in prepared.items():
        target = tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "yaml":
            text = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
        elif kind == "json":
            text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        else:
            text = data
        target.write_text(text)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(tmp, out_dir)


def main(argv: list[str]) -> int:
    for name in LIBRARIES:
        importlib.import_module(name)
    prepared = json.loads(Path(argv[0]).read_text())
    write(prepared, Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
