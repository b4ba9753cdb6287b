"""Time compression for the live stack: the suite's one test-only override.

Everything that waits is divided by SCALE: every rule `for` and `keep_firing_for`, every
range window, Alertmanager's group_wait / group_interval / repeat_interval; Prometheus
scrapes and evaluates every second. A fault fires in seconds rather than minutes, and the
`for`s keep their proportions (RedisMasterDown's 30s is still half of a 1m). Expressions,
thresholds, labels, annotations, routes and inhibition are the committed ones.
"""
from __future__ import annotations

import re

import yaml

from monspec.spec.durations import format_duration, parse_duration

SCALE = 30
_RANGE = re.compile(r"\[(\d+[smhdwy])\]")


def scaled(duration: str) -> str:
    """`duration` divided by SCALE, never under one second (the evaluation interval)."""
    return format_duration(max(1.0, round(parse_duration(duration) / SCALE)))


def shorten_windows(expr: str) -> str:
    return _RANGE.sub(lambda m: f"[{scaled(m.group(1))}]", expr)


def _rules(text: str) -> str:
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
                route[key] = scaled(route[key])
        for child in route.get("routes", []):
            fast(child)

    fast(config["route"])
    return yaml.safe_dump(config, sort_keys=False)


def compress_time(name: str, text: str) -> str:
    """The `adjust` hook of `Stack.plan`."""
    return {"rules.yml": _rules, "prometheus.yml": _prometheus, "alertmanager.yml": _alertmanager}.get(
        name, lambda t: t)(text)
