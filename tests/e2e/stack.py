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


def live_prometheus_config(config_text: str, rules_file: Path, targets: list[str], alertmanager: str | None) -> str:
    """prometheus.yml scraping the demo instances every second, alerting to the test Alertmanager."""
    config = yaml.safe_load(config_text)
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"}
    config["rule_files"] = [str(rules_file)]
    [job] = config["scrape_configs"]
    job["static_configs"] = [{"targets": targets}]
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    else:
        config.pop("alerting", None)
    return yaml.safe_dump(config, sort_keys=False)


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
