"""The matcher index finds exactly what testing every item finds: random routing trees, inhibit rules
and label sets (seeded: the same examples every run), against plain loops that try every item."""
from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from monspec.model.inhibition import mutes, muting_rules
from monspec.model.rules import AlertRule
from monspec.spec import routing as routing_module
from monspec.spec.routing import Inhibit, MatcherIndex, Route, Routing, matches

LABELS = ["alertname", "severity", "team"]
VALUES = ["", "S", "S1", "S10", "S1A", "Sx", "critical", "crit", "warning", "a|b", "a.b"]
# Regexes whose literal prefixes are easy to get wrong: quantifiers on the last plain character,
# top-level and grouped alternation, classes, escapes, the empty pattern, a dot.
PATTERNS = ["", ".*", ".+", "S1", "S1[A-Z].*", "S1.*", "S10?", "S1*", "S1+A", "S1{2}", "S(1|x)", "S1|crit.*",
            "crit(ical)?", "critical|warning", "(critical)", "[Sc].*", r"a\|b", r"a\.b", "a.b", "S1A|Sx", "warn"]

MATCHERS = st.tuples(st.dictionaries(st.sampled_from(LABELS), st.sampled_from(VALUES), max_size=2),
                     st.dictionaries(st.sampled_from(LABELS), st.sampled_from(PATTERNS), max_size=2))
LABEL_SETS = st.dictionaries(st.sampled_from(LABELS), st.sampled_from(VALUES), max_size=3)


def _routes(depth: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    children = _routes(depth - 1) if depth > 0 else st.just([])
    route = st.builds(lambda m, receiver, cont, routes: {"match": m[0], "match_re": m[1], "continue": cont,
                                                          "routes": routes, **({"receiver": receiver} if receiver else {})},
                      MATCHERS, st.sampled_from([None, "r1", "r2", "r3"]), st.booleans(), children)
    return st.lists(route, max_size=6)


def _plain_walk(routes: list[Route], receiver: str, labels: dict[str, str], path: list[Any]) -> list[tuple[str, list[Any]]]:
    """Alertmanager's walk as written before the index: every sibling tried in order."""
    found: list[tuple[str, list[Any]]] = []
    for route in routes:
        if not route.matches(labels):
            continue
        found.extend(_plain_walk(route.routes, route.receiver or receiver, labels, path + [route]))
        if not route.continue_:
            break
    return found or [(receiver, path)]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(routes=_routes(2), label_sets=st.lists(LABEL_SETS, min_size=1, max_size=8))
def test_route_for_equals_the_plain_walk(routes: list[dict[str, Any]], label_sets: list[dict[str, str]]) -> None:
    routing = Routing.model_validate({"receiver": "r0", "receivers": {f"r{i}": {} for i in range(4)}, "routes": routes})
    for labels in label_sets:
        got = routing.route_for(labels)
        want = _plain_walk(routing.routes, routing.receiver, labels, [routing])
        assert [(receiver, [id(step) for step in path]) for receiver, path in got] == \
               [(receiver, [id(step) for step in path]) for receiver, path in want], labels


@settings(max_examples=300, deadline=None, derandomize=True)
@given(sides=st.lists(MATCHERS, max_size=12), labels=LABEL_SETS)
def test_matching_is_every_item_that_matches_in_order(sides: list[tuple[dict[str, str], dict[str, str]]],
                                                     labels: dict[str, str]) -> None:
    items = list(range(len(sides)))
    index = MatcherIndex(items, lambda i: sides[i])
    assert list(index.matching(labels)) == [i for i in items if matches(*sides[i], labels)]


def test_a_lookup_tries_only_the_items_filed_under_the_labels(monkeypatch) -> None:
    """Fifty services' routes by alert-name prefix: an alert's lookup tests its own and the routes
    whose matchers no label value selects, not the other forty-nine."""
    sides = [({}, {"alertname": f"S{i}[A-Z].*"}) for i in range(50)] + [({}, {"severity": "critical|warning"})]
    index = MatcherIndex(list(range(len(sides))), lambda i: sides[i])
    tried: list[dict[str, str]] = []

    def counted(equal: dict[str, str], regex: dict[str, str], labels: dict[str, str]) -> bool:
        tried.append(regex)
        return matches(equal, regex, labels)

    monkeypatch.setattr(routing_module, "matches", counted)
    assert list(index.matching({"alertname": "S12CacheDown", "severity": "info"})) == [12]
    assert tried == [sides[1][1], sides[12][1], sides[50][1]]  # S1 shares the prefix "S1"; the alternation has none


ALERT_LABELS = st.dictionaries(st.sampled_from(["severity", "team", "kpi", "job"]), st.sampled_from(VALUES[:6]), max_size=3)
INHIBITS = st.builds(lambda source, target, equal: Inhibit(source_match=source[0] or {"team": "S"}, source_match_re=source[1],
                                                           target_match=target[0] or {"team": "S1"}, target_match_re=target[1],
                                                           equal=equal),
                     MATCHERS, MATCHERS, st.lists(st.sampled_from(LABELS + ["kpi", "job"]), max_size=2, unique=True))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(rules=st.lists(INHIBITS, max_size=6),
       alerts=st.lists(st.tuples(st.sampled_from(VALUES[1:6]), ALERT_LABELS), max_size=10))
def test_generated_inhibit_rules_kept_are_those_that_mute_an_alert(rules: list[Inhibit], alerts: list) -> None:
    rule_objects = [AlertRule(name=name, expr="up == 0", for_=None, keep_firing_for=None, labels=labels, annotations={},
                              entity=None, origin="alert", severity=labels.get("severity", "")) for name, labels in alerts]
    assert muting_rules(rules, rule_objects) == [r for r in rules if any(mutes(r, a, rule_objects) for a in rule_objects)]
