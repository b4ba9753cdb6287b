"""Alert delivery: receivers, the routing tree and inhibit rules (`routing:` in specs/routing.yaml).

Secrets are references, never values: a receiver names the *file* holding a PagerDuty
routing key, a Slack webhook URL or an SMTP password, and Alertmanager reads it at run
time. The literal fields (`routing_key`, `api_url`, `auth_password`) exist only so the
lint can point at them (`routing/literal-secret`) instead of failing with "unknown field".

Alertmanager 0.25 reads `routing_key_file` (PagerDuty), `api_url_file` (Slack) and
`auth_password_file` (email); it has no `url_file` for webhooks, so a webhook's URL is
written out and must carry no credentials; a bearer token goes in `credentials_file`.

A complete example:

```yaml
routing:
  receiver: cache-digest            # where an alert goes when no route matches
  group_by: [alertname, job, instance]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  receivers:
    cache-oncall:
      description: Pages the on-call engineer.
      pagerduty:
        - routing_key_file: /etc/alertmanager/secrets/pagerduty-routing-key
          component: cache
    cache-chat:
      slack:
        - api_url_file: /etc/alertmanager/secrets/slack-webhook-url
          channel: "#cache-alerts"
    cache-digest:
      email:
        - to: cache-team@example.com
          from: alertmanager@example.com
          smarthost: smtp.example.com:587
          auth_username: alertmanager
          auth_password_file: /etc/alertmanager/secrets/smtp-password
  routes:
    - match: {severity: critical}
      receiver: cache-oncall
      repeat_interval: 1h
    - match: {severity: warning}
      receiver: cache-chat
  inhibit:
    - source_match: {severity: critical}
      target_match: {severity: warning}
      source_match_re: {kpi: ".+"}
      target_match_re: {kpi: ".+"}
      equal: [kpi, job, instance]
```
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from functools import cache, cached_property
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, Field, field_validator, model_validator

from monspec.spec.base import LABEL_NAME, Duration, GroupLabel, LabelName, Located, Placed, Strict
from monspec.spec.durations import parse_duration

T = TypeVar("T")


def _label_map(value: dict[str, str]) -> dict[str, str]:
    for name in value:
        if not LABEL_NAME.match(str(name)):
            raise ValueError(f"{name!r} is not a valid label name")
    return value


def _period(value: str) -> str:
    if parse_duration(value) <= 0:
        raise ValueError("must be longer than 0s: Alertmanager refuses a zero interval")
    return value


Period = Annotated[Duration, AfterValidator(_period)]  # group_interval, repeat_interval


def _http_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("expected an http(s) URL with a host")  # not echoed: it may hold a secret
    return value


def _regex_map(value: dict[str, str]) -> dict[str, str]:
    _label_map(value)
    for name, pattern in value.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"`{name}`: invalid regular expression {pattern!r}: {exc}") from None
    return value


class PagerDuty(Placed):
    """PagerDuty Events API v2."""

    routing_key_file: str | None = Field(None, min_length=1, description="File holding the Events v2 integration (routing) key.")
    routing_key: str | None = Field(None, description="Never set this: a literal key is a lint error (routing/literal-secret).")
    url: str | None = Field(None, description="Events API URL; Alertmanager's default is https://events.pagerduty.com/v2/enqueue.")
    source_: str | None = Field(None, alias="source", description="PagerDuty event source; defaults to the client name.")
    component: str | None = None
    group: str | None = None
    class_: str | None = Field(None, alias="class")
    description: str | None = Field(None, description="Incident summary (a Go template), e.g. '{{ .CommonAnnotations.summary }}'.")
    severity: str | None = Field(None, description="critical | error | warning | info, or a template such as '{{ .CommonLabels.severity }}'.")
    details: dict[str, str] = Field(default_factory=dict, description=(
        "The event's custom_details: field name -> Go template, e.g. runbook: '{{ .CommonAnnotations.runbook_url }}'. "
        "Alertmanager adds its own firing / resolved / num_firing / num_resolved unless named here."))
    send_resolved: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @model_validator(mode="after")
    def _key(self):
        if self.routing_key_file is None and self.routing_key is None:
            raise ValueError("a pagerduty receiver needs `routing_key_file`, the file holding the routing key")
        return self


class Slack(Placed):
    api_url_file: str | None = Field(None, min_length=1, description="File holding the Slack incoming-webhook URL.")
    api_url: str | None = Field(None, description="Never set this: a literal webhook URL is a lint error (routing/literal-secret).")
    channel: str | None = None
    title: str | None = None
    text: str | None = None
    send_resolved: bool = True

    @model_validator(mode="after")
    def _url(self):
        if self.api_url_file is None and self.api_url is None:
            raise ValueError("a slack receiver needs `api_url_file`, the file holding the webhook URL")
        return self


class Webhook(Placed):
    url: str = Field(description="Endpoint; must not carry credentials (Alertmanager 0.25 has no url_file).")
    credentials_file: str | None = Field(None, min_length=1, description="File holding a bearer token sent as the Authorization header.")
    send_resolved: bool = True
    max_alerts: int = Field(0, ge=0, le=1_000_000)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _http_url(value)


class Email(Placed):
    to: str = Field(min_length=1)
    from_: str = Field(alias="from", min_length=1)
    smarthost: str = Field(pattern=r"^[^\s:]+:\d+$", description="SMTP host:port.")
    auth_username: str | None = None
    auth_password_file: str | None = Field(None, min_length=1)
    auth_password: str | None = Field(None, description="Never set this: a literal password is a lint error (routing/literal-secret).")
    require_tls: bool = True
    send_resolved: bool = False


class Receiver(Located):
    """A named destination; several integrations may notify together, none makes a silent sink."""

    description: str | None = None
    pagerduty: list[PagerDuty] = Field(default_factory=list)
    slack: list[Slack] = Field(default_factory=list)
    webhook: list[Webhook] = Field(default_factory=list)
    email: list[Email] = Field(default_factory=list)

    def integrations(self) -> list[tuple[str, Placed]]:
        return ([("pagerduty", x) for x in self.pagerduty] + [("slack", x) for x in self.slack]
                + [("webhook", x) for x in self.webhook] + [("email", x) for x in self.email])


class Matching(Placed):
    """Label equality (`match`) and anchored regular expressions (`match_re`), all must hold."""

    match: dict[str, str] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)

    @field_validator("match")
    @classmethod
    def _v_match(cls, value: dict[str, str]) -> dict[str, str]:
        return _label_map(value)

    @field_validator("match_re")
    @classmethod
    def _v_match_re(cls, value: dict[str, str]) -> dict[str, str]:
        return _regex_map(value)

    def matches(self, labels: dict[str, str]) -> bool:
        return matches(self.match, self.match_re, labels)


class RouteParent:
    """The root or a route: its child routes, indexed by their matchers on the first walk through it
    (the spec is not changed after loading)."""

    if TYPE_CHECKING:
        routes: list[Route]

    @cached_property
    def children(self) -> MatcherIndex[Route]:
        return MatcherIndex(self.routes, lambda route: (route.match, route.match_re))


class Route(Matching, RouteParent):
    receiver: str | None = Field(None, description="Receiver name; inherited from the parent route when omitted.")
    continue_: bool = Field(False, alias="continue", description="Keep matching later sibling routes after this one.")
    group_by: list[GroupLabel] | None = None
    group_wait: Duration | None = None
    group_interval: Period | None = None
    repeat_interval: Period | None = None
    routes: list[Route] = Field(default_factory=list)


class Inhibit(Placed):
    """While an alert matching `source_*` fires, alerts matching `target_*` with equal `equal` labels are muted."""

    source_match: dict[str, str] = Field(default_factory=dict)
    source_match_re: dict[str, str] = Field(default_factory=dict)
    target_match: dict[str, str] = Field(default_factory=dict)
    target_match_re: dict[str, str] = Field(default_factory=dict)
    equal: list[LabelName] = Field(default_factory=list)
    description: str | None = None

    @field_validator("source_match", "target_match")
    @classmethod
    def _v_eq(cls, value: dict[str, str]) -> dict[str, str]:
        return _label_map(value)

    @field_validator("source_match_re", "target_match_re")
    @classmethod
    def _v_re(cls, value: dict[str, str]) -> dict[str, str]:
        return _regex_map(value)

    @model_validator(mode="after")
    def _sides(self):
        if not (self.source_match or self.source_match_re) or not (self.target_match or self.target_match_re):
            raise ValueError("an inhibit rule needs matchers on both sides (`source_match`/`source_match_re` "
                             "and `target_match`/`target_match_re`)")
        return self

    def source_matches(self, labels: dict[str, str]) -> bool:
        return matches(self.source_match, self.source_match_re, labels)

    def target_matches(self, labels: dict[str, str]) -> bool:
        return matches(self.target_match, self.target_match_re, labels)


class Routing(Placed, RouteParent):
    receiver: str = Field(description="Default receiver: alerts no route matches go here.")
    group_by: list[GroupLabel] = Field(default_factory=lambda: ["alertname", "job", "instance"])
    group_wait: Duration = "30s"
    group_interval: Period = "5m"
    repeat_interval: Period = "4h"
    resolve_timeout: Duration = "5m"
    receivers: dict[str, Receiver]
    routes: list[Route] = Field(default_factory=list)
    inhibit: list[Inhibit] = Field(default_factory=list)
    generated_inhibit: bool = Field(True, description="Add monspec's inhibit rules: a KPI's critical alert mutes its "
                                    "warning, an alert's `parent:` mutes it (see monspec.model.inhibition).")

    def route_for(self, labels: dict[str, str]) -> list[tuple[str, list[Any]]]:
        """(receiver, route path) for every notification an alert with these labels produces,
        following Alertmanager's rules: first matching child wins unless it says `continue`,
        a route without matching children delivers itself, receivers are inherited."""
        return _walk(self, self.receiver, labels, [self])

    def receivers_for(self, labels: dict[str, str]) -> list[str]:
        return [receiver for receiver, _ in self.route_for(labels)]


def _walk(node: Routing | Route, receiver: str, labels: dict[str, str], path: list[Any]) -> list[tuple[str, list[Any]]]:
    found: list[tuple[str, list[Any]]] = []
    for route in node.children.matching(labels):
        found.extend(_walk(route, route.receiver or receiver, labels, path + [route]))
        if not route.continue_:
            break
    return found or [(receiver, path)]


class MatcherIndex(Generic[T]):
    """Items that each carry a set of matchers (equalities and regexes that must all hold), found
    for a label set without testing every item: each item is filed under one of its matchers, an
    equality by its value, a regex by its literal prefix (`literal_prefix`), and a lookup tries only
    the items filed under the label set's values and their prefixes, plus those with no such
    matcher. Finding an alert's routes or inhibit rules then costs the items that can match it,
    not every sibling (quadratic in a platform team's spec set of fifty services)."""

    def __init__(self, items: list[T], matchers: Callable[[T], tuple[dict[str, str], dict[str, str]]]) -> None:
        self.items = items
        self.matchers = [matchers(item) for item in items]
        self.by_value: dict[str, dict[str, list[int]]] = {}  # label -> value (a missing label's is "") -> items
        self.by_prefix: dict[str, dict[str, list[int]]] = {}  # label -> a regex's literal prefix -> items
        self.always: list[int] = []  # regexes only, none with a literal prefix
        for i, (equal, regex) in enumerate(self.matchers):
            if equal:
                label = min(equal)
                self.by_value.setdefault(label, {}).setdefault(equal[label], []).append(i)
                continue
            prefix, label = max(((literal_prefix(p), k) for k, p in regex.items()), key=lambda pl: len(pl[0]), default=("", ""))
            if prefix:
                self.by_prefix.setdefault(label, {}).setdefault(prefix, []).append(i)
            else:
                self.always.append(i)
        self.prefix_lengths = {label: sorted({len(p) for p in found}) for label, found in self.by_prefix.items()}

    def matching(self, labels: dict[str, str]) -> Iterator[T]:
        """The items whose matchers all hold for the labels (Alertmanager's semantics, see
        `matches`), in their order, lazily: a route walk stops at the first match."""
        candidates = set(self.always)
        for label, values in self.by_value.items():
            candidates.update(values.get(labels.get(label, ""), ()))
        for label, lengths in self.prefix_lengths.items():
            value = labels.get(label, "")
            for length in lengths:
                if length <= len(value):
                    candidates.update(self.by_prefix[label].get(value[:length], ()))
        for i in sorted(candidates):
            if matches(*self.matchers[i], labels):
                yield self.items[i]


def matches(equal: dict[str, str], regex: dict[str, str], labels: dict[str, str]) -> bool:
    """Alertmanager's semantics: a missing label has the empty value; regexes are anchored."""
    return (all(labels.get(k, "") == v for k, v in equal.items())
            and all(anchored(p).fullmatch(labels.get(k, "")) is not None for k, p in regex.items()))


def literal_prefix(pattern: str) -> str:
    """A start every value the anchored pattern matches shares: the plain characters it opens
    with ("" when a `|` outside any group splits it). Shorter than possible is safe; an index of
    many patterns uses it to try only the patterns a value can match."""
    depth, in_class, i = 0, False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 1
        elif in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c in "()":
            depth += 1 if c == "(" else -1
        elif c == "|" and depth == 0:
            return ""
        i += 1
    run = 0
    while run < len(pattern) and pattern[run].isascii() and (pattern[run].isalnum() or pattern[run] in "_-:/ "):
        run += 1
    if run < len(pattern) and pattern[run] in "?*+{":  # a quantifier applies to the run's last character
        run -= 1
    return pattern[:max(run, 0)]


def starting_with(ordered: list, prefix: str, key: Callable[[Any], str] | None = None) -> list:
    """The items of a sorted list (by `key`, default the items themselves) that start with prefix."""
    text = key or (lambda item: item)
    start = end = bisect.bisect_left(ordered, prefix, key=key)
    while end < len(ordered) and text(ordered[end]).startswith(prefix):
        end += 1
    return ordered[start:end]


@cache
def anchored(pattern: str) -> re.Pattern[str]:
    """Each spec pattern compiled once (re's own cache thrashes past 512 patterns: a large spec set)."""
    return re.compile(f"(?:{pattern})")


Route.model_rebuild()


class ReceiverOverride(Strict):
    """Replaces fields of every integration of one kind in a receiver (see RoutingOverrides)."""

    pagerduty: dict[str, Any] = Field(default_factory=dict)
    slack: dict[str, Any] = Field(default_factory=dict)
    webhook: dict[str, Any] = Field(default_factory=dict)
    email: dict[str, Any] = Field(default_factory=dict)


class RoutingOverrides(Strict):
    """An environment's changes to the committed routing, e.g. for the live end-to-end test:

    ```yaml
    group_wait: 1s
    group_interval: 1s
    receivers:
      cache-oncall:
        pagerduty: {url: "http://127.0.0.1:8080/pagerduty", routing_key_file: /tmp/e2e/pd-key}
        webhook: {url: "http://127.0.0.1:8080/hook"}
      cache-chat:
        slack: {api_url_file: /tmp/e2e/slack-url}     # the file holds http://127.0.0.1:8080/slack
    ```
    """

    group_wait: Duration | None = None
    group_interval: Period | None = None
    repeat_interval: Period | None = None
    resolve_timeout: Duration | None = None
    receivers: dict[str, ReceiverOverride] = Field(default_factory=dict)
