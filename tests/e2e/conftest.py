"""The live stack for the end-to-end suite: started once per module, stopped afterwards."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.redis_server import RedisServer  # noqa: E402
from support.prometheus_server import PrometheusServer  # noqa: E402

from e2e.stack import GENERATED, Demo, live_prometheus_config, live_rules, wait_for  # noqa: E402


@dataclass
class Stack:
    master: RedisServer
    replica: RedisServer
    demo: Demo
    small_l1: Demo
    prometheus: PrometheusServer
    workdir: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("live")
    started = []
    try:
        master = RedisServer(work / "redis-master").start()
        started.append(master)
        replica = RedisServer(work / "redis-replica", replica_of=master).start()
        started.append(replica)
        replica.wait_replica_synced()
        common = ["--redis-url", master.url, "--replica-url", replica.url, "--health-interval", "0.5",
                  "--warming-interval", "1", "--rate", "300"]
        demo = Demo(work, "demo", *common, "--keys", "500", "--l1-size", "1000").start()
        started.append(demo)
        small = Demo(work, "demo-small-l1", *common, "--keys", "2000", "--l1-size", "300").start()
        started.append(small)
        rules = work / "rules.yml"
        rules.write_text(live_rules((GENERATED / "prometheus" / "rules.yml").read_text()))
        config = work / "prometheus.yml"
        config.write_text(live_prometheus_config((GENERATED / "prometheus" / "prometheus.yml").read_text(), rules,
                                                 [demo.target, small.target], None))
        prometheus = PrometheusServer(work / "prometheus", config).start()
        started.append(prometheus)
        wait_for(lambda: len(prometheus.api("query", query='up{job="unified-cache"} == 1')["result"]) == 2,
                 30, "both demo targets to be up")
        yield Stack(master, replica, demo, small, prometheus, work)
    finally:
        for part in reversed(started):
            part.stop()
