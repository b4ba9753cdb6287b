"""The committed generated/ files, run for real: Redis master and replica, `ucm demo`,
Prometheus and Alertmanager on free loopback ports.

The one test-only override is time: rule groups evaluate and Prometheus scrapes every
second, every `for` is cut to FOR_SECONDS and every range window to WINDOW, so a fault
fires in seconds rather than minutes (and a 5m rate is not diluted by a 20-second-old
server). Expressions, thresholds, labels and annotations are the committed ones.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from support.processes import ManagedProcess, free_port, wait_until
from support.redis_server import RedisServer
from support.prometheus_server import http_ok

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "generated"
FOR_SECONDS = 3
WINDOW = "10s"
_RANGE = re.compile(r"\[(\d+[smhdwy])\]")


def live_rules(rules_text: str) -> str:
    """rules.yml with 1s evaluation and every `for` shortened; nothing else changes."""
    rules = yaml.safe_load(rules_text)
    for group in rules["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            rule["expr"] = shorten_windows(rule["expr"])
            if "for" in rule:
                rule["for"] = f"{FOR_SECONDS}s"
            if "keep_firing_for" in rule:
                rule["keep_firing_for"] = "1s"
    return yaml.safe_dump(rules, sort_keys=False, allow_unicode=True)


def shorten_windows(expr: str) -> str:
    return _RANGE.sub(f"[{WINDOW}]", expr)


UNDERSIZED_JOB = "unified-cache-undersized"


def live_prometheus_config(config_text: str, rules_file: Path, target: str, undersized: str,
                           alertmanager: str | None) -> str:
    """prometheus.yml scraping the demo every second, alerting to the test Alertmanager.

    A second job, a copy of the committed one, scrapes a demo whose L1 is far below its
    working set: the fault for the hit-ratio warning, kept out of the healthy job.
    """
    config = yaml.safe_load(config_text)
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"}
    config["rule_files"] = [str(rules_file)]
    [job] = config["scrape_configs"]
    job["static_configs"] = [{"targets": [target]}]
    config["scrape_configs"].append({**job, "job_name": UNDERSIZED_JOB, "static_configs": [{"targets": [undersized]}]})
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    else:
        config.pop("alerting", None)
    return yaml.safe_dump(config, sort_keys=False)


def live_alertmanager_config(config_text: str, secrets: Path, capture_url: str, smtp: str) -> str:
    """The committed alertmanager.yml with every delivery address on loopback and 1s grouping.

    Receivers, routes, matchers, inhibition and message templates stay as committed; only
    where a notification goes (and how long Alertmanager waits to batch it) changes.
    """
    config = yaml.safe_load(config_text)

    def fast(route: dict) -> None:
        route["group_wait"] = "1s"
        route["group_interval"] = "1s"
        for child in route.get("routes", []):
            fast(child)

    fast(config["route"])
    secrets.mkdir(parents=True, exist_ok=True)
    for receiver in config["receivers"]:
        name = receiver["name"]
        for pd in receiver.get("pagerduty_configs", []):
            key = secrets / f"{name}-pagerduty-key"
            key.write_text(f"test-routing-key-{name}\n")
            pd["routing_key_file"] = str(key)
            pd["url"] = f"{capture_url}/pagerduty/{name}"
        for slack in receiver.get("slack_configs", []):
            url = secrets / f"{name}-slack-url"
            url.write_text(f"{capture_url}/slack/{name}\n")
            slack["api_url_file"] = str(url)
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = f"{capture_url}/webhook/{name}"
            token = secrets / f"{name}-webhook-token"
            token.write_text("test-token\n")
            hook.setdefault("http_config", {}).setdefault("authorization", {})["credentials_file"] = str(token)
        for mail in receiver.get("email_configs", []):
            mail["smarthost"] = smtp
            mail["require_tls"] = False
            mail.pop("auth_username", None)
            mail.pop("auth_password_file", None)
    return yaml.safe_dump(config, sort_keys=False)


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
        self.port = free_port()
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "unified_cache.cli", "demo", "--port", str(self.port), "--duration", "0", *args]
        env = {"UCM_DATA_DIR": str(self.workdir), "PATH": "/usr/bin:/bin"}
        self.process = ManagedProcess(argv, self.workdir / "demo.log", env={**__import__("os").environ, **env})

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Demo":
        self.process.start()
        self.process.wait_ready(lambda: http_ok(f"http://{self.target}/metrics"), timeout=30, what="ucm demo /metrics")
        return self

    def stop(self) -> None:
        self.process.stop()


def wait_for(check, timeout: float, what: str) -> None:
    wait_until(check, timeout=timeout, interval=0.25, what=what)


def notifications(stack, kind: str, receiver: str, alertname: str, status: str = "firing") -> list:
    """What the capture server got from Alertmanager for one alert (PagerDuty, Slack or webhook)."""
    out = []
    for request in stack.capture.received(f"/{kind}/{receiver}"):
        body = request.body
        if kind == "webhook" and body["status"] == status and body["commonLabels"].get("alertname") == alertname:
            out.append(request)
        elif kind == "pagerduty" and alertname in body["payload"]["custom_details"].get(status, ""):
            out.append(request)
        elif kind == "slack" and body["attachments"][0]["title"].startswith(f"[{status.upper()}] {alertname} "):
            out.append(request)
    return out


def wait_notified(stack, kind: str, receiver: str, alertname: str, status: str = "firing"):
    wait_for(lambda: notifications(stack, kind, receiver, alertname, status), 30,
             f"{alertname} ({status}) to reach {receiver} by {kind}")
    return notifications(stack, kind, receiver, alertname, status)[0]
