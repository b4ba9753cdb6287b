"""The live stack for the end-to-end suite: `monspec demo`'s stack with its time compressed
(tests/e2e/stack.py), started once for the live tests and stopped afterwards."""
from __future__ import annotations

import json
import time
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

    def explain(self) -> str:
        """What a failed live test needs to be understood from CI's output alone: the alerts as
        Prometheus and Alertmanager hold them, the notifications so far, and each program's log tail."""
        def prometheus() -> list[str]:
            return sorted(f"{a['labels'].get('alertname')} {a['state']} {a['labels'].get('instance', '')} "
                          f"active since {a.get('activeAt', '')[11:19]} value {a.get('value')}" for a in self.alerts())

        def alertmanager() -> list[str]:
            return sorted(f"{a['labels'].get('alertname')} {a['status']['state']} {a['labels'].get('instance', '')} "
                          f"inhibited by {a['status']['inhibitedBy']} to {[r['name'] for r in a['receivers']]}"
                          for a in self.alertmanager_alerts())

        def notifications() -> list[str]:
            return [f"{time.strftime('%H:%M:%S', time.gmtime(n['time']))} {n['kind']} {n['receiver']}: {n['summary']}"
                    for n in self.notifications()[-15:]]

        sections = {"Prometheus alerts": prometheus, "Alertmanager alerts": alertmanager,
                    "notifications (the last 15)": notifications}
        for name in ("alertmanager", "prometheus", "receiver", "cache-a", "cache-b"):
            sections[f"{name} log (the last 10 lines)"] = \
                lambda program=self.stack.programs[name]: program.log_tail(10).splitlines()
        lines = [f"now {time.strftime('%H:%M:%S', time.gmtime())} UTC"]
        for title, read in sections.items():
            lines.append(f"{title}:")
            try:
                lines += ["  " + line for line in read()]
            except (OSError, ValueError, KeyError, AssertionError) as exc:
                lines.append(f"  (unreadable: {exc!r})")
        return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed live test's report carries the stack's state at the moment it failed."""
    outcome = yield
    report = outcome.get_result()
    live = getattr(item, "funcargs", {}).get("live")
    if report.when == "call" and report.failed and isinstance(live, Live):
        report.sections.append(("the live stack when the test failed", live.explain()))


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
