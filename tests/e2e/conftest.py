"""The live stack for the end-to-end suite: started once per module, stopped afterwards."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from e2e.stack import (
    GENERATED,
    Demo,
    demo_args,
    live_alertmanager_config,
    live_prometheus_config,
    live_rules,
    start_redis,
    wait_for,
)
from support.capture_server import CaptureServer, SmtpSink
from support.prometheus_server import AlertmanagerServer, PrometheusServer
from support.redis_server import RedisServer


@dataclass
class Stack:
    master: RedisServer
    replica: RedisServer
    demo: Demo
    small_l1: Demo
    prometheus: PrometheusServer
    alertmanager: AlertmanagerServer
    capture: CaptureServer
    smtp: SmtpSink
    workdir: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("live")
    started = []
    with CaptureServer() as capture, SmtpSink() as smtp:
        yield from _stack(work, started, capture, smtp)


def _stack(work, started, capture, smtp):
    try:
        master, replica = start_redis(work, started)
        common = demo_args(master, replica)
        demo = Demo(work, "demo", *common, "--keys", "500", "--l1-size", "1000").start()
        started.append(demo)
        small = Demo(work, "demo-small-l1", *common, "--keys", "2000", "--l1-size", "300").start()
        started.append(small)
        am_config = work / "alertmanager.yml"
        am_config.write_text(live_alertmanager_config((GENERATED / "alertmanager" / "alertmanager.yml").read_text(),
                                                      work / "secrets", capture.url, f"127.0.0.1:{smtp.port}"))
        alertmanager = AlertmanagerServer(work / "alertmanager", am_config).start()
        started.append(alertmanager)
        rules = work / "rules.yml"
        rules.write_text(live_rules((GENERATED / "prometheus" / "rules.yml").read_text()))
        config = work / "prometheus.yml"
        config.write_text(live_prometheus_config((GENERATED / "prometheus" / "prometheus.yml").read_text(), rules,
                                                 demo.target, small.target, f"127.0.0.1:{alertmanager.port}"))
        prometheus = PrometheusServer(work / "prometheus", config).start()
        started.append(prometheus)
        wait_for(lambda: len(prometheus.api("query", query="up == 1")["result"]) == 2, 30, "both demo targets to be up")
        yield Stack(master, replica, demo, small, prometheus, alertmanager, capture, smtp, work)
    finally:
        for part in reversed(started):
            part.stop()
