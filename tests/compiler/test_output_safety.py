"""The output folder is monspec's alone: it refuses to replace anything else, survives a kill or a
failed system call at every step of the swap (old tree or new tree, leftovers cleaned next run),
lets one of two concurrent runs win, and never follows a symlink out of the folder."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monspec.output import MANIFEST, read_tree, write_tree

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "golden_specs"
FAULTS = REPO / "tests" / "support" / "output_faults.py"
OLD = {"prometheus/rules.yml": "old rules\n", "docs/alerts.md": "old docs\n", "gone.txt": "dropped later\n",
       "grafana/kept.json": "{}\n"}
NEW = {"prometheus/rules.yml": "new rules\n", "docs/alerts.md": "new docs\n", "grafana/d.json": "{}\n",
       "grafana/kept.json": "{}\n"}


def _monspec(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monspec.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _as_bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {rel: text.encode() for rel, text in files.items()}


def _project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "specs")
    return tmp_path


REFUSALS = [
    ("spec-folder", "specs", "error: refusing to write output to specs: it is the spec folder [output/refused]"),
    ("inside-specs", "specs/out", "error: refusing to write output to specs/out: it is inside the spec folder specs [output/refused]"),
    ("ancestor", ".", "error: refusing to write output to .: it holds the spec folder specs [output/refused]"),
    ("repo-root", "repo", "error: refusing to write output to repo: it is a repository root; use a folder of its own such as generated/ [output/refused]"),
    ("foreign-folder", "mine", "error: refusing to replace mine: monspec has no manifest and did not write mine/notes.txt; "
                               "move it elsewhere or choose another --out (monspec replaces the whole folder) [output/refused]"),
    ("a-file", "mine/notes.txt", "error: refusing to write output to mine/notes.txt: it is a file, not a folder [output/refused]"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refuses_folders_it_does_not_own(case, tmp_path: Path) -> None:
    _, out, expected = case
    project = _project(tmp_path)
    (project / "repo" / ".git").mkdir(parents=True)
    (project / "mine").mkdir()
    (project / "mine" / "notes.txt").write_text("my notes\n")
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    result = _monspec("generate", "--out", out, cwd=project)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [expected, "1 error(s), 0 warning(s)"]
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_a_file_added_to_the_output_is_kept_and_named(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert _monspec("generate", cwd=project).returncode == 0
    (project / "generated" / "docs" / "mine.md").write_text("keep me\n")
    result = _monspec("generate", cwd=project)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "error: refusing to replace generated: monspec does not list generated/docs/mine.md; move it elsewhere "
        "or choose another --out (monspec replaces the whole folder) [output/refused]")
    assert (project / "generated" / "docs" / "mine.md").read_text() == "keep me\n"


def test_output_written_before_the_manifest_is_recognised(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert _monspec("generate", cwd=project).returncode == 0
    (project / "generated" / MANIFEST).unlink()
    rules = project / "generated" / "prometheus" / "rules.yml"
    (project / "generated" / "prometheus" / "old.yml").write_bytes(rules.read_bytes())  # has the header
    assert _monspec("generate", cwd=project).returncode == 0
    assert not (project / "generated" / "prometheus" / "old.yml").exists()
    assert (project / "generated" / MANIFEST).is_file()


def test_symlinks_in_the_output_are_named_never_followed(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert _monspec("generate", cwd=project).returncode == 0
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=hunter2\n")
    alerts = project / "generated" / "docs" / "alerts.md"
    alerts.unlink()
    alerts.symlink_to(secret)
    (project / "generated" / "env").symlink_to("/proc/self/environ")
    check = _monspec("check", cwd=project)
    assert check.returncode == 1
    assert "hunter2" not in check.stderr + check.stdout
    assert check.stderr.splitlines()[:2] == ["not a regular file (not read): generated/docs/alerts.md",
                                              "not a regular file (not read): generated/env"]
    generate = _monspec("generate", cwd=project)
    assert generate.returncode == 1
    assert "hunter2" not in generate.stderr + generate.stdout
    assert secret.read_text() == "TOKEN=hunter2\n"


def _faulty_write(out: Path, files_json: Path, mode: str, step: int, *extra: str) -> tuple[int, dict | None]:
    result = subprocess.run([sys.executable, str(FAULTS), str(out), str(files_json), mode, str(step), *extra],
                            capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, (json.loads(result.stdout) if result.stdout else None)


def _tree(out: Path) -> dict[str, str] | None:
    return {rel: data.decode() for rel, data in read_tree(out).items()} if out.is_dir() else None


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_a_kill_at_any_step_leaves_the_old_or_the_new_tree(exchange: bool, tmp_path: Path) -> None:
    extra = () if exchange else ("--no-exchange",)
    files_json = tmp_path / "new.json"
    files_json.write_text(json.dumps(NEW))
    out = tmp_path / "work" / "generated"
    out.parent.mkdir()
    write_tree(out, _as_bytes(OLD))
    code, report = _faulty_write(out, files_json, "kill", 0, *extra)
    assert code == 0 and _tree(out) == NEW
    steps = report["steps"]
    assert steps >= 20
    missing = []
    for step in range(1, steps + 1):
        shutil.rmtree(out.parent)
        out.parent.mkdir()
        write_tree(out, _as_bytes(OLD))
        code, _ = _faulty_write(out, files_json, "kill", step, *extra)
        assert code == 137, f"step {step} did not kill"
        state = _tree(out)
        if state is None:
            missing.append(step)
        else:
            assert state in (OLD, NEW), f"after a kill at step {step}: {state}"
        write_tree(out, _as_bytes(NEW))  # the next run cleans up
        assert _tree(out) == NEW
        assert _siblings(out) == ["generated"], f"leftovers after a kill at step {step}"
    # Only the two-rename fallback has a moment without the folder, and the next run restores it.
    assert len(missing) == (0 if exchange else 1)


@pytest.mark.parametrize("fault, reason", [("enospc", "no space left on the device"), ("erofs", "read-only file system")])
def test_a_failed_system_call_at_any_step_is_one_line_and_keeps_the_old_tree(fault: str, reason: str, tmp_path: Path) -> None:
    files_json = tmp_path / "new.json"
    files_json.write_text(json.dumps(NEW))
    out = tmp_path / "work" / "generated"
    out.parent.mkdir()
    write_tree(out, _as_bytes(OLD))
    _, report = _faulty_write(out, files_json, fault, 0)
    failures = 0
    for step in range(1, report["steps"] + 1):
        shutil.rmtree(out.parent)
        out.parent.mkdir()
        write_tree(out, _as_bytes(OLD))
        code, report_at = _faulty_write(out, files_json, fault, step)
        if code == 1:
            failures += 1
            [line] = report_at["error"]
            assert line.startswith(("error: cannot write ", "error: cannot read ")) and line.endswith(f": {reason} [output/io]"), line
            assert _tree(out) == OLD, f"step {step}"
        else:
            assert code == 0 and _tree(out) == NEW, f"step {step}"
        write_tree(out, _as_bytes(NEW))
        assert _siblings(out) == ["generated"], f"leftovers after a failure at step {step}"
    assert failures >= 10


def test_a_running_generate_holds_the_lock(tmp_path: Path) -> None:
    project = _project(tmp_path)
    fd = os.open(project, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = _monspec("generate", cwd=project)
    finally:
        os.close(fd)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "error: another monspec run is writing generated: try again when it has finished [output/locked]")
    assert not (project / "generated").exists()
    assert _monspec("generate", cwd=project).returncode == 0


def test_concurrent_generates_give_one_tree_and_clean_failures(tmp_path: Path) -> None:
    project = _project(tmp_path)
    runs = [subprocess.Popen([sys.executable, "-m", "monspec.cli", "generate"], cwd=project,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(run.wait(timeout=120), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert any(code == 0 for code, _ in results)
    for code, stderr in results:
        assert code == 0 or stderr.splitlines()[0].endswith("[output/locked]"), stderr
    assert _siblings(project / "generated") == ["generated", "specs"]
    assert _monspec("check", cwd=project).returncode == 0
