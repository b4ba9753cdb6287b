"""Programs of the demo stack: started in their own session with output to a log file, and
stopped by pid only after checking the pid still runs the command that was started.

A program is plain data (name, argv, log, readiness probe), so a later `monspec demo stop`
or `monspec demo fault` can act on a stack that another process started.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct free ports: each socket stays bound until all are chosen."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_until(check: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05, what: str = "condition") -> None:
    """Poll `check` until it is true; TimeoutError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server on `port` answers PING (raw RESP, no client library needed)."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_info(port: int, section: str, host: str = "127.0.0.1") -> dict[str, str]:
    """`INFO section` as a dict (e.g. `redis_info(p, "replication")["master_link_status"]`); {} when down."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(f"INFO {section}\r\n".encode())
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return {}
                data += chunk
                header, _, rest = data.partition(b"\r\n")
                if header.startswith(b"$") and len(rest) >= int(header[1:]):
                    break
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in rest.decode().splitlines() if ":" in line)


def ready(probe: str) -> bool:
    """`http://…` answers 200, or `redis:PORT` answers PING."""
    if probe.startswith("redis:"):
        return redis_ping(int(probe[6:]))
    return http_ok(probe)


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (None when gone or a zombie).

    With the pid it identifies a process for good: a pid reused later has another start
    time, and programs that rewrite their title (redis-server does) keep theirs.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


@dataclass
class Program:
    """One process of the stack. `argv` is what runs now; `usual_argv` what recovery restores."""

    name: str
    argv: list[str]
    log: str
    probe: str
    env: dict[str, str] = field(default_factory=dict)
    pid: int | None = None
    started: int | None = None
    usual_argv: list[str] = field(default_factory=list)
    _proc: subprocess.Popen | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.usual_argv = self.usual_argv or list(self.argv)

    def to_json(self) -> dict:
        return {"name": self.name, "argv": self.argv, "log": self.log, "probe": self.probe, "env": self.env,
                "pid": self.pid, "started": self.started, "usual_argv": self.usual_argv}

    @property
    def running(self) -> bool:
        """Alive and still the command that was started (a reused pid is not ours)."""
        if self.pid is None:
            return False
        if self._proc is not None:
            return self._proc.poll() is None
        return self.started is not None and _start_ticks(self.pid) == self.started

    def start(self, timeout: float = 30.0) -> None:
        Path(self.log).parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env={**os.environ, **self.env}, cwd=Path(self.log).parent,
                                          start_new_session=True)
        self.pid = self._proc.pid
        self.started = _start_ticks(self.pid)

        def up() -> bool:
            if not self.running:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            return ready(self.probe)

        try:
            wait_until(up, timeout=timeout, what=f"{self.name} ({self.probe})")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(Path(self.log).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def signal_kill(self) -> None:
        """SIGKILL without waiting (`kill` then waits)."""
        if self.running and self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)

    def kill(self) -> None:
        """A crash: SIGKILL, nothing flushed."""
        self._signal(signal.SIGKILL, 10.0)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`."""
        if not self._signal(signal.SIGTERM, timeout):
            self._signal(signal.SIGKILL, 10.0)

    def _signal(self, sig: signal.Signals, timeout: float) -> bool:
        """Send `sig` if the process is ours and alive; True once it is gone."""
        if not self.running or self.pid is None:
            return True
        os.kill(self.pid, sig)
        try:
            wait_until(lambda: not self.running, timeout=timeout, what=f"{self.name} to exit")
        except TimeoutError:
            return False
        if self._proc is not None:
            self._proc.wait()
        return True
