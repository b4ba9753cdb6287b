"""`make demo` and `make demo-stop` as README tells a new user: the stack starts on loopback
with its state in one folder, `verify` answers, the stop leaves no process and the repository
untouched."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from e2e.conftest import REPO
from monspec.demo.stack import ORDER, Stack
from support.processes import require_program

pytestmark = pytest.mark.live


# What the other tests write, running beside this one (scripts/test.sh): tool caches, hypothesis's
# examples, the wheel test's in-tree build.
CACHES = ("__pycache__", ".venv/", ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".hypothesis/", "build/")


def repo_state() -> set[str]:
    """Files git sees as new, ignored ones included (a dump.rdb or a data/ folder would show);
    tool caches, the suite's own files and the source folders people edit while it runs are not the demo's."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return {line[3:] for line in out.splitlines() if line[:2] in ("??", "!!")
            and not any(c in line for c in CACHES) and not line[3:].startswith(("src/", "tests/"))}


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True, timeout=180)


def test_make_demo_starts_answers_and_stops_cleanly(tmp_path) -> None:
    require_program("redis-server")
    require_program("prometheus")
    require_program("alertmanager", "/usr/bin/prometheus-alertmanager")
    before = repo_state()
    workdir = tmp_path / "demo"
    started = make("demo", f"DEMO_DIR={workdir}")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        stack = Stack.load(workdir)
        assert [name for name in ORDER if stack.programs[name].running] == list(ORDER)
        out = started.stdout
        assert f"Prometheus     {stack.prometheus_url}  (alerts: {stack.prometheus_url}/alerts)" in out
        assert f"verify:   monspec verify --prometheus {stack.prometheus_url}" in out
        verify = subprocess.run([sys.executable, "-m", "monspec.cli", "verify", "--prometheus", stack.prometheus_url,
                                 "--format", "json"], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert verify.returncode in (0, 1, 2), verify.stderr  # answered (3 would be unreachable)
        report = json.loads(verify.stdout)
        assert {t["instance"] for t in report["targets"]} <= {stack.target("cache-a"), stack.target("cache-b"), "-"}
    finally:
        stopped = make("demo-stop", f"DEMO_DIR={workdir}")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert f"stopped {len(ORDER)} processes of the demo in {workdir}" in stopped.stdout
    assert not any(program.running for program in Stack.load(workdir).programs.values())
    assert repo_state() - before == set()
    assert (workdir / "redis-replica").is_dir() and (workdir / "prometheus" / "data").is_dir()
