"""generated/alertmanager/alertmanager.yml: receivers, the routing tree and inhibit rules of `routing:`.

Only secret *file* references reach the output; literal secrets are lint errors and are
never written. Receivers are sorted by name (their order means nothing to Alertmanager);
routes keep spec order (first match wins).

An environment (the live end-to-end test) changes endpoints and timings with
`render_config(specs, overrides)` / `write_config(...)`, see `RoutingOverrides`; the
committed file is always rendered without overrides.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from monspec.errors import SpecError
from monspec.model import Model
from monspec.model.inhibition import inhibit_rules
from monspec.model.rules import AlertRule
from monspec.promql import escape_label_value
from monspec.render.templates import render_template
from monspec.spec import SpecSet
from monspec.spec.routing import Inhibit, Receiver, Route, Routing, RoutingOverrides

PATH = "alertmanager/alertmanager.yml"


def render(model: Model) -> dict[str, str]:
    specs = model.specs
    if specs.routing is None:
        return {}
    # the model's own alerts (not the imported ones), so inhibit_rules need not compile them again
    return {PATH: render_config(specs, rules=[r for r in model.all_alert_rules if r.origin != "imported"])}


def render_config(specs: SpecSet, overrides: RoutingOverrides | dict | None = None,
                  rules: list[AlertRule] | None = None) -> str:
    """alertmanager.yml; `rules`: the spec set's own alerts when the caller has them compiled."""
    routing = specs.routing
    if routing is None:
        raise SpecError("no `routing:` section in the specs: nothing to render for Alertmanager")
    if isinstance(overrides, dict):
        overrides = RoutingOverrides.model_validate(overrides)
    return render_template(specs, "alertmanager.yml.j2",
                           config=config_data(routing, overrides, inhibit_rules(specs, rules)))


def write_config(specs_dir: Path, out: Path, overrides: RoutingOverrides | dict | Path | None = None) -> Path:
    """Load the specs and write alertmanager.yml to `out` (a file), with an environment's overrides.

    `overrides` may be a YAML file path holding a RoutingOverrides mapping."""
    from monspec.spec import load_specs

    if isinstance(overrides, Path):
        import yaml

        overrides = RoutingOverrides.model_validate(yaml.safe_load(overrides.read_text()) or {})
    text = render_config(load_specs(specs_dir), overrides)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out


def config_data(routing: Routing, overrides: RoutingOverrides | None = None,
                inhibits: list[Inhibit] | None = None) -> dict[str, Any]:
    """alertmanager.yml as ordered plain data; `inhibits` default to the routing spec's own."""
    o = overrides or RoutingOverrides()
    unknown = sorted(set(o.receivers) - set(routing.receivers))
    if unknown:
        raise SpecError(f"routing overrides name unknown receiver(s): {', '.join(unknown)}")
    root: dict[str, Any] = {
        "receiver": routing.receiver,
        "group_by": list(routing.group_by),
        "group_wait": o.group_wait or routing.group_wait,
        "group_interval": o.group_interval or routing.group_interval,
        "repeat_interval": o.repeat_interval or routing.repeat_interval,
    }
    if routing.routes:
        root["routes"] = [_route(r) for r in routing.routes]
    data: dict[str, Any] = {
        "global": {"resolve_timeout": o.resolve_timeout or routing.resolve_timeout},
        "route": root,
    }
    inhibits = routing.inhibit if inhibits is None else inhibits
    if inhibits:
        data["inhibit_rules"] = [_inhibit(rule) for rule in inhibits]
    data["receivers"] = [_receiver(routing.receivers[name], o.receivers.get(name)) for name in sorted(routing.receivers)]
    return data


def matcher_strings(equal: dict[str, str], regex: dict[str, str]) -> list[str]:
    """Alertmanager matcher syntax, label names sorted: severity="critical", kpi=~".+"."""
    out = [(k, f"{k}={_quote(v)}") for k, v in equal.items()] + [(k, f"{k}=~{_quote(v)}") for k, v in regex.items()]
    return [text for _, text in sorted(out)]


def _quote(value: str) -> str:
    return '"' + escape_label_value(value) + '"'


def _route(route: Route) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if route.receiver:
        out["receiver"] = route.receiver
    matchers = matcher_strings(route.match, route.match_re)
    if matchers:
        out["matchers"] = matchers
    if route.continue_:
        out["continue"] = True
    for name in ("group_by", "group_wait", "group_interval", "repeat_interval"):
        value = getattr(route, name)
        if value is not None:
            out[name] = list(value) if isinstance(value, list) else value
    if route.routes:
        out["routes"] = [_route(child) for child in route.routes]
    return out


def _inhibit(rule: Inhibit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source_matchers": matcher_strings(rule.source_match, rule.source_match_re),
        "target_matchers": matcher_strings(rule.target_match, rule.target_match_re),
    }
    if rule.equal:
        out["equal"] = list(rule.equal)
    return out


def _with(config, override: dict[str, Any]):
    if not override:
        return config
    data = config.model_dump(by_alias=True, exclude_none=True)
    return type(config).model_validate({**data, **override})


def _receiver(receiver: Receiver, override) -> dict[str, Any]:
    out: dict[str, Any] = {"name": receiver.name}
    if receiver.pagerduty:
        out["pagerduty_configs"] = [_pagerduty(_with(c, override.pagerduty if override else {})) for c in receiver.pagerduty]
    if receiver.slack:
        out["slack_configs"] = [_slack(_with(c, override.slack if override else {})) for c in receiver.slack]
    if receiver.webhook:
        out["webhook_configs"] = [_webhook(_with(c, override.webhook if override else {})) for c in receiver.webhook]
    if receiver.email:
        out["email_configs"] = [_email(_with(c, override.email if override else {})) for c in receiver.email]
    return out


def _some(pairs) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


def _pagerduty(c) -> dict[str, Any]:
    return _some([("routing_key_file", c.routing_key_file), ("url", c.url), ("source", c.source_),
                  ("component", c.component), ("group", c.group), ("class", c.class_),
                  ("description", c.description), ("severity", c.severity),
                  ("details", dict(sorted(c.details.items())) or None), ("send_resolved", c.send_resolved)])


def _slack(c) -> dict[str, Any]:
    return _some([("api_url_file", c.api_url_file), ("channel", c.channel), ("title", c.title),
                  ("text", c.text), ("send_resolved", c.send_resolved)])


def _webhook(c) -> dict[str, Any]:
    out = _some([("url", c.url), ("send_resolved", c.send_resolved), ("max_alerts", c.max_alerts or None)])
    if c.credentials_file:
        out["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": c.credentials_file}}
    return out


def _email(c) -> dict[str, Any]:
    return _some([("to", c.to), ("from", c.from_), ("smarthost", c.smarthost), ("auth_username", c.auth_username),
                  ("auth_password_file", c.auth_password_file), ("require_tls", c.require_tls),
                  ("send_resolved", c.send_resolved)])
