"""The compiler stands without the reference library's dependencies (they are the `reference` extra)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "monspec"

BLOCKED_IMPORT = """
import importlib, pkgutil, sys
sys.modules["redis"] = None  # importing them now raises ImportError
sys.modules["prometheus_client"] = None
import monspec
for info in pkgutil.walk_packages(monspec.__path__, "monspec."):
    importlib.import_module(info.name)
from monspec.cli import main
main(["generate", "--out", sys.argv[1]], standalone_mode=True)
"""


def test_every_monspec_module_imports_and_generates_without_redis_or_prometheus_client(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT, str(tmp_path / "out")],
                            cwd=SRC.parents[1], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "prometheus" / "rules.yml").is_file()
