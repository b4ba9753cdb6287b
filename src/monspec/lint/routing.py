"""Routing checks:

- `routing/literal-secret`: a routing key, webhook URL, password or token written into a spec
  (the literal fields, a Slack/PagerDuty webhook URL, credentials inside a URL) — secrets are files.
- `routing/unknown-receiver`: a route names a receiver that is not defined.
- `routing/unused-receiver` (warning): a receiver no route reaches.
- `routing/unknown-alert`: a matcher on `alertname` names no alert the specs produce.
- `routing/unreachable-route` (warning): a route no alert of the specs matches.
"""
from __future__ import annotations

import difflib
import re
from urllib.parse import parse_qsl, urlsplit

from monspec.spec.routing import Route, anchored, literal_prefix, starting_with

LITERAL_FIELDS = {"routing_key": "routing_key_file", "api_url": "api_url_file", "auth_password": "auth_password_file"}
SECRET_HOSTS = ("hooks.slack.com", "events.pagerduty.com", "outlook.office.com", "discord.com/api/webhooks")
SECRET_PARAMS = re.compile(r"^(token|access_token|api_?key|key|secret|sig|signature|password|passwd|pass|auth|code)$", re.I)
KEY_LIKE = re.compile(r"^(?=.*\d)(?=.*[a-zA-Z])[A-Za-z0-9]{32}$")  # a PagerDuty integration key
TOKEN_LIKE = re.compile(r"(?=.*\d)(?=.*[a-zA-Z])[A-Za-z0-9_\-]{20,}")  # a key in a webhook path
PUBLIC_ENDPOINTS = {"events.pagerduty.com": ("/v2/enqueue", "/generic/2010-04-15/create_event.json")}


def check(ctx) -> None:
    routing = ctx.specs.routing
    if routing is None:
        return
    for receiver in routing.receivers.values():
        for kind, config in receiver.integrations():
            for literal, file_field in LITERAL_FIELDS.items():
                if getattr(config, literal, None) is not None:
                    ctx.report(receiver, config.problem(
                        "routing/literal-secret", f"literal `{literal}` in {kind} receiver `{receiver.name}`: "
                        "secrets must not be written into specs", literal, key=True, secret=True,
                        hint=f"put the value in a file readable by Alertmanager and set `{file_field}` to its path"))
            for field_name, value in _strings(config):
                if field_name in LITERAL_FIELDS:
                    continue
                reason = secret_reason(value)
                if reason:
                    ctx.report(receiver, config.problem(
                        "routing/literal-secret", f"`{field_name}` of {kind} receiver `{receiver.name}` {reason}",
                        field_name, hint=_hint(kind), secret=True))
    known = set(routing.receivers)
    used: set[str] = set()

    def check_receiver(entity, name: str, field_name: str) -> None:
        used.add(name)
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            ctx.report(routing, entity.problem(
                "routing/unknown-receiver", f"no receiver named `{name}`", field_name,
                hint=f"did you mean `{close[0]}`?" if close else f"receivers: {', '.join(sorted(known))}"))

    check_receiver(routing, routing.receiver, "receiver")
    for route in _routes(routing.routes):
        if route.receiver is not None:
            check_receiver(route, route.receiver, "receiver")
    for name, receiver in routing.receivers.items():
        if name not in used:
            ctx.report(receiver, receiver.problem("routing/unused-receiver", f"receiver `{name}` is reached by no route",
                                                  key=True, severity="warning"))
    alerts = ctx.model.all_alert_rules
    names = sorted({rule.name for rule in alerts})
    for entity, equal, regex, fields in _alertname_matchers(routing):
        for field_name, kind, value in ((fields[0], "=", equal.get("alertname")), (fields[1], "=~", regex.get("alertname"))):
            if value is None:
                continue
            hit = value in names if kind == "=" else _any_matches(value, names)
            if not hit:
                close = difflib.get_close_matches(value, names, n=1)
                ctx.report(routing, entity.problem(
                    "routing/unknown-alert", f"`alertname{kind}\"{value}\"` matches no alert of the specs",
                    field_name, "alertname", key=True, hint=f"did you mean `{close[0]}`?" if close else None))
    reached: set[int] = set()
    for rule in alerts:
        labels = {**rule.labels, "alertname": rule.name}
        for _, path in routing.route_for(labels):
            reached.update(id(step) for step in path)
    if alerts:
        for route in _routes(routing.routes):
            if id(route) not in reached:
                ctx.report(routing, route.problem(
                    "routing/unreachable-route", "no alert of the specs reaches this route", severity="warning",
                    hint="an earlier route catches its alerts first, or its matchers fit no alert's labels"))


def _any_matches(pattern: str, names: list[str]) -> bool:
    """Whether the anchored pattern matches one of the sorted names; only the names that start
    with its literal prefix are tried (a large spec set has thousands of names and of patterns)."""
    return any(anchored(pattern).fullmatch(name) for name in starting_with(names, literal_prefix(pattern)))


def secret_reason(value: str) -> str | None:
    """Why a string looks like a secret, or None; the reason never repeats the secret."""
    text = value.strip()
    if KEY_LIKE.match(text):
        return "looks like a literal integration key"
    for match in re.finditer(r"https?://\S+", text):
        parts = urlsplit(match.group(0))
        host = parts.hostname or ""
        if parts.username is not None or parts.password is not None:
            return "holds credentials inside a URL (user:password@)"
        if any(SECRET_PARAMS.match(k) for k, _ in parse_qsl(parts.query, keep_blank_values=True)):
            return "holds a credential in the URL's query string"
        if parts.path.rstrip("/") in PUBLIC_ENDPOINTS.get(host, ()):
            continue
        if any(known in host + parts.path for known in SECRET_HOSTS) and (parts.path.strip("/") or parts.query):
            return f"holds a literal webhook URL ({host}/…)"
        if any(TOKEN_LIKE.fullmatch(segment) for segment in parts.path.split("/")):
            return f"holds what looks like a secret in the URL's path ({host}/…)"
    return None


def _hint(kind: str) -> str:
    return {
        "slack": "write the webhook URL into a file and set `api_url_file` to its path",
        "pagerduty": "write the key into a file and set `routing_key_file` to its path",
        "webhook": "Alertmanager 0.25 has no webhook url_file: keep the URL free of credentials and "
                   "put a bearer token in a file named by `credentials_file`",
        "email": "write the password into a file and set `auth_password_file` to its path",
    }[kind]


def _strings(config):
    for name, f in type(config).model_fields.items():
        value = getattr(config, name)
        if isinstance(value, str):
            yield f.alias or name, value


def _routes(routes: list[Route]):
    for route in routes:
        yield route
        yield from _routes(route.routes)


def _alertname_matchers(routing):
    for route in _routes(routing.routes):
        yield route, route.match, route.match_re, ("match", "match_re")
    for rule in routing.inhibit:
        yield rule, rule.source_match, rule.source_match_re, ("source_match", "source_match_re")
        yield rule, rule.target_match, rule.target_match_re, ("target_match", "target_match_re")
