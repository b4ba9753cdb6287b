"""Time compression for the live stack: the suite's one test-only override.

Everything that waits is divided by SCALE: every rule `for` and `keep_firing_for`, every
range window, Alertmanager's group_wait / group_interval / repeat_interval; Prometheus
scrapes and evaluates every second. A fault fires in seconds rather than minutes, and the
`for`s keep their proportions (RedisMasterDown's 30s is still half of a 1m). Expressions,
thresholds, labels, annotations, routes and inhibition are the committed ones.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from monspec.demo.configs import alertmanager_config
from monspec.demo.processes import http_ok, wait_until
from monspec.spec.durations import format_duration, parse_duration
from support.processes import ManagedProcess, free_port
from support.redis_server import RedisServer

SCALE = 30
_RANGE = re.compile(r"\[(\d+[smhdwy])\]")


def scaled(duration: str, floor: float = 1.0) -> str:
    """`duration` divided by SCALE, never under `floor` (default one second, the evaluation interval)."""
    return format_duration(max(floor, round(parse_duration(duration) / SCALE)))


# Alertmanager's waits keep room for one scrape plus one evaluation (2 s here): a parent alert
# (RedisClusterDown) that a scrape sees one round after its child (RedisMasterDown) must still
# arrive before the child's group is flushed, as it does with the committed 30 s group_wait.
ALERTMANAGER_FLOOR = 3.0
# group_wait keeps more: the cache notices the second of two Redis servers killed together at a
# later health check than the first, and one fresh-clone run in about five saw RedisMasterDown's
# group flushed (a second page) before RedisClusterDown arrived to mute it with a 3 s wait.
GROUP_WAIT_FLOOR = 6.0


def shorten_windows(expr: str) -> str:
    return _RANGE.sub(lambda m: f"[{scaled(m.group(1))}]", expr)


def live_rules(text: str) -> str:
    rules = yaml.safe_load(text)
    for group in rules["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            rule["expr"] = shorten_windows(rule["expr"])
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = scaled(rule[key])
    return yaml.safe_dump(rules, sort_keys=False, allow_unicode=True)


def _prometheus(text: str) -> str:
    config = yaml.safe_load(text)
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"}
    return yaml.safe_dump(config, sort_keys=False)


def _alertmanager(text: str) -> str:
    config = yaml.safe_load(text)

    def fast(route: dict) -> None:
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if key in route:
                route[key] = scaled(route[key], GROUP_WAIT_FLOOR if key == "group_wait" else ALERTMANAGER_FLOOR)
        for child in route.get("routes", []):
            fast(child)

    fast(config["route"])
    return yaml.safe_dump(config, sort_keys=False)


def compress_time(name: str, text: str) -> str:
    """The `adjust` hook of `Stack.plan`."""
    return {"rules.yml": live_rules, "prometheus.yml": _prometheus, "alertmanager.yml": _alertmanager}.get(
        name, lambda t: t)(text)


# --- parts for suites that assemble their own stack (VictoriaMetrics) ------------------------

def live_alertmanager_config(config_text: str, secrets: Path, receiver_url: str, smtp: str) -> str:
    """The committed alertmanager.yml delivering to a capture server, its timers compressed."""
    return _alertmanager(alertmanager_config(config_text, secrets, receiver_url, smtp))


def start_redis(work: Path, started: list) -> tuple[RedisServer, RedisServer]:
    """A Redis master and a synced replica, appended to `started` (stopped in reverse)."""
    master = RedisServer(work / "redis-master").start()
    started.append(master)
    replica = RedisServer(work / "redis-replica", replica_of=master).start()
    started.append(replica)
    replica.wait_replica_synced()
    return master, replica


def demo_args(master: RedisServer, replica: RedisServer) -> list[str]:
    """`ucm demo` options of the live suites: both Redis servers, fast health checks and warming, a steady load."""
    return ["--redis-url", master.url, "--replica-url", replica.url, "--health-interval", "0.5",
            "--warming-interval", "1", "--rate", "300"]


class Demo:
    """`ucm demo` serving /metrics on a free port until stopped."""

    def __init__(self, workdir: Path, name: str, *args: str):
        import os

        self.port = free_port()
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "unified_cache.cli", "demo", "--port", str(self.port), "--duration", "0", *args]
        self.process = ManagedProcess(argv, self.workdir / "demo.log", env={**os.environ, "UCM_DATA_DIR": str(self.workdir)})

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Demo:
        self.process.start()
        self.process.wait_ready(lambda: http_ok(f"http://{self.target}/metrics"), timeout=30, what="ucm demo /metrics")
        return self

    def stop(self) -> None:
        self.process.stop()


def wait_for(check, timeout: float, what: str) -> None:
    wait_until(check, timeout=timeout, interval=0.25, what=what)


def wait_notified(stack, kind: str, receiver: str, alertname: str) -> dict:
    """The first firing notification of `alertname` the capture server got by `kind` for `receiver`."""
    def found() -> list[dict]:
        out = []
        for entry in stack.capture.received():
            body = entry["body"]
            if (entry["kind"], entry["receiver"]) != (kind, receiver):
                continue
            if kind == "webhook" and body["status"] == "firing" and body["commonLabels"].get("alertname") == alertname \
                    or kind == "pagerduty" and alertname in body["payload"]["custom_details"].get("firing", ""):
                out.append(entry)
        return out

    wait_for(found, 30, f"{alertname} to reach {receiver} by {kind}")
    return found()[0]
