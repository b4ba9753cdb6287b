"""scripts/test.sh, which `make test` runs: both halves of the suite run, the end of the output
names what failed in either, and the exit code fails when either half fails. A stand-in for
Python plays pytest: it prints the marker expression it was given and exits as told."""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "test.sh"

FAKE_PYTHON = """#!/usr/bin/env bash
# argv: -m pytest -m EXPR [more...]; exits with $LIVE_EXIT or $REST_EXIT
expr=$4
if [ "$expr" = live ]; then code=$LIVE_EXIT; part=live; else code=$REST_EXIT; part=rest; fi
if [ "$part" = live ] && [ -n "${LIVE_PID_FILE:-}" ]; then echo $$ > "$LIVE_PID_FILE"; sleep 60; fi
echo "pytest -m $expr ${@:5}"
[ "$code" -eq 1 ] && echo "FAILED tests/$part/test_x.py::test_y - AssertionError"
echo "==== $part exits $code ===="
exit "$code"
"""


def fake_python(tmp_path: Path) -> str:
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return str(python)


def run(tmp_path: Path, live: int, rest: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), fake_python(tmp_path), *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LIVE_EXIT": str(live), "REST_EXIT": str(rest)})


@pytest.mark.parametrize(("live", "rest", "code"), [(0, 0, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1), (5, 0, 0), (0, 5, 0),
                                                    (5, 5, 1), (2, 0, 1)])
def test_exit_code_fails_when_either_half_fails(tmp_path: Path, live: int, rest: int, code: int) -> None:
    assert run(tmp_path, live, rest).returncode == code


def test_both_halves_get_the_options_and_the_end_says_what_failed(tmp_path: Path) -> None:
    result = run(tmp_path, 1, 0, "-x", "tests/e2e")
    lines = result.stdout.splitlines()
    # The rest prints first, as it goes; then the live run's output; then both summaries.
    assert lines[0] == "pytest -m not live -x tests/e2e"
    assert "pytest -m live -x tests/e2e" in lines
    assert lines.index("pytest -m live -x tests/e2e") > lines.index("==== rest exits 0 ====")
    assert lines[-3:] == ["rest: ==== rest exits 0 ====",
                          "live: ==== live exits 1 ====",
                          "FAILED tests/live/test_x.py::test_y - AssertionError"]
    assert "both runs" in lines[-4]


def test_stopping_the_script_stops_the_live_run(tmp_path: Path) -> None:
    """Ctrl-C or a CI timeout while the live half runs: nothing of it is left behind."""
    pid_file = tmp_path / "live.pid"
    script = subprocess.Popen([str(SCRIPT), fake_python(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={"PATH": "/usr/bin:/bin", "LIVE_EXIT": "0", "REST_EXIT": "0",
                                   "LIVE_PID_FILE": str(pid_file)})
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the live half never started"
        time.sleep(0.05)
    live = int(pid_file.read_text())
    script.send_signal(signal.SIGTERM)
    assert script.wait(timeout=20) == 130
    deadline = time.monotonic() + 10
    while _alive(live):
        assert time.monotonic() < deadline, "the live half outlived the script"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    # A zombie is dead: it waits only for its parent (here, gone) to be reaped by init.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
