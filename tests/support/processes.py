"""Start and stop real programs for tests: free loopback ports, readiness waits, clean stops.

Nothing here knows about a particular program; see ``redis_server.py`` for an example user.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from monspec.demo.processes import wait_until  # noqa: F401  (re-exported: one poll loop for tests and the demo)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_program(name: str, *candidates: str) -> str:
    """Path of program ``name`` (or the first existing candidate path).

    Missing: the test is skipped locally but fails under CI=true, so CI can never go green
    by silently skipping the live tests.
    """
    for path in (*candidates, shutil.which(name)):
        if path and os.access(path, os.X_OK):
            return path
    message = f"{name} is not installed (install the Debian package or run scripts/install-programs.sh)"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to 0 and release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class ManagedProcess:
    """A child process with its output in a log file, stopped for sure at the end.

    ``stop()`` sends SIGTERM then SIGKILL; ``kill()`` simulates a crash (SIGKILL).
    The log is included in errors so a failed start explains itself.
    """

    def __init__(self, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None, cwd: str | None = None):
        self.argv = list(argv)
        self.log_path = Path(log_path)
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd
            )
        finally:
            log.close()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        def ready() -> bool:
            if not self.running:
                raise RuntimeError(f"{self.argv[0]} exited early ({self.proc.returncode}):\n{self.log_text()}")
            return check()

        try:
            wait_until(ready, timeout=timeout, what=what or f"{self.argv[0]} to be ready")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.log_text()}") from None

    def kill(self) -> None:
        if self.running:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 5.0) -> None:
        if not self.running:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
