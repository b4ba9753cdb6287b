"""The live stack for the end-to-end suite: `monspec demo`'s stack with its time compressed
(tests/e2e/stack.py), started once for the live tests and stopped afterwards."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from e2e.stack import compress_time
from monspec.demo.processes import wait_until
from monspec.demo.receiver import read_log
from monspec.demo.stack import Stack, Workload
from support.processes import require_program

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "generated"
# Health checks and warming as the defaults, divided like the rest of time (SCALE 30). A Redis
# socket timeout of 2 s (default 0.5 s): a CI host under load must not time out a local Redis; a
# dead one refuses the connection at once, so faults show just as fast.
TEST_WORKLOAD = Workload(rate=200.0, health_interval=0.5, warming_interval=2.0, env={"UCM_REDIS_SOCKET_TIMEOUT": "2"})


def _json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


class Live:
    """The running stack and the three places the tests read: Prometheus, Alertmanager, the receiver."""

    def __init__(self, stack: Stack):
        self.stack = stack

    def api(self, path: str, **params):
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        body = _json(f"{self.stack.prometheus_url}/api/v1/{path}{query}")
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)["result"]

    def alerts(self) -> list[dict]:
        return self.api("alerts")["alerts"]

    def alertmanager_alerts(self) -> list[dict]:
        return _json(f"{self.stack.alertmanager_url}/api/v2/alerts")

    def notifications(self) -> list[dict]:
        return read_log(self.stack.notifications)

    def target(self, cache: str) -> str:
        return self.stack.target(cache)


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    for program in ("redis-server", "prometheus"):
        require_program(program)
    require_program("alertmanager", "/usr/bin/prometheus-alertmanager")
    stack = Stack.plan(tmp_path_factory.mktemp("live"), GENERATED, TEST_WORKLOAD, adjust=compress_time)
    try:
        stack.start()
        live = Live(stack)
        # Prometheus applies its first targets after its discovery delay (5 s).
        wait_until(lambda: len(live.query("up == 1")) == 2, 30, 0.25, "both cache targets to be up")
        # Every range window full (the longest, 10m, is 20 s compressed) before anything is judged.
        wait_until(lambda: live.query("time() - min(process_start_time_seconds) > 25"), 60, 0.5, "the windows to fill")
        yield live
    finally:
        stack.stop()
