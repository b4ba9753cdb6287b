"""Runnable copies of the generated Prometheus and Alertmanager configs for a loopback stack.

What changes is only where things are: scrape targets, the rules file, the Alertmanager
address, and every notification's destination (the local receiver, secrets as files in the
work folder). Rules, routes, matchers, inhibition and message templates stay as generated.
"""
from __future__ import annotations

from pathlib import Path

import yaml


def prometheus_config(config_text: str, rules_file: Path, targets: list[str], alertmanager: str) -> str:
    """The generated prometheus.yml scraping `targets` in its one job, alerting to `alertmanager`."""
    config = yaml.safe_load(config_text)
    config["rule_files"] = [str(rules_file)]
    [job] = config["scrape_configs"]
    job["static_configs"] = [{"targets": list(targets)}]
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    return yaml.safe_dump(config, sort_keys=False)


def alertmanager_config(config_text: str, secrets: Path, receiver_url: str, smtp: str) -> str:
    """The generated alertmanager.yml delivering every notification to the local receiver.

    PagerDuty, Slack and webhook configs post to `receiver_url`/<kind>/<receiver name>;
    e-mail goes to the receiver's SMTP port without TLS or auth.
    """
    config = yaml.safe_load(config_text)
    secrets.mkdir(parents=True, exist_ok=True)
    for receiver in config.get("receivers", []):
        name = receiver["name"]
        for pd in receiver.get("pagerduty_configs", []):
            key = secrets / f"{name}-pagerduty-key"
            key.write_text(f"demo-routing-key-{name}\n")
            pd.pop("routing_key", None)
            pd.pop("service_key", None)
            pd["routing_key_file"] = str(key)
            pd["url"] = f"{receiver_url}/pagerduty/{name}"
        for slack in receiver.get("slack_configs", []):
            url = secrets / f"{name}-slack-url"
            url.write_text(f"{receiver_url}/slack/{name}\n")
            slack.pop("api_url", None)
            slack["api_url_file"] = str(url)
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = f"{receiver_url}/webhook/{name}"
            token = secrets / f"{name}-webhook-token"
            token.write_text("demo-token\n")
            hook.setdefault("http_config", {}).setdefault("authorization", {})["credentials_file"] = str(token)
        for mail in receiver.get("email_configs", []):
            mail["smarthost"] = smtp
            mail["require_tls"] = False
            mail.pop("auth_username", None)
            mail.pop("auth_password_file", None)
            mail.pop("auth_password", None)
    return yaml.safe_dump(config, sort_keys=False)
