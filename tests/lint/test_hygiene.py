"""alert/missing-annotation, alert/severity, alert/missing-for, alert/name-case, alert/warning-stricter."""
from __future__ import annotations


def alert(key: str = "queue_full", expr: str = "max by (job, instance) (queue_utilization) > 0.9",
          extra: str = "    for: 5m\n", severity: str = "warning") -> str:
    return (f"  {key}:\n    expr: {expr}\n{extra}    severity: {severity}\n"
            "    summary: Queue full\n    description: The queue is full.\n")


def test_missing_annotation_hit(lint) -> None:
    linted = lint(("hygiene",), "alerts:\n" + alert(extra="    for: 5m\n    annotations:\n      runbook_url: ''\n"))
    assert linted.of("alert/missing-annotation") == [
        "alerts.yaml:6:7: error: alert `QueueFull` has an empty `runbook_url` annotation"
        " | hint: on-call needs a summary, a description and a runbook link on every alert"]


def test_missing_annotation_miss(lint) -> None:
    assert lint(("hygiene",), "alerts:\n" + alert()).of("alert/missing-annotation") == []


def test_severity_label_hit(lint) -> None:
    linted = lint(("hygiene",), "alerts:\n" + alert(extra="    for: 5m\n    labels:\n      severity: page\n"))
    assert linted.of("alert/severity") == [
        'alerts.yaml:6:17: error: `labels.severity` is "page" but the alert\'s `severity` is "warning" (which wins)'
        " | hint: set the severity once, with `severity:`"]


def test_severity_label_miss(lint) -> None:
    linted = lint(("hygiene",), "alerts:\n" + alert(extra="    for: 5m\n    labels:\n      page: 'no'\n"))
    assert linted.of("alert/severity") == []


def test_missing_for_hit(lint) -> None:
    linted = lint(("hygiene",), "alerts:\n" + alert(extra=""))
    assert linted.of("alert/missing-for") == [
        "alerts.yaml:2:3: warning: threshold alert `QueueFull` has no `for`: a single evaluation past 0.9 fires it"
        " | hint: add `for: 5m` (or the time the condition must hold)"]


def test_missing_for_miss_and_disable(lint) -> None:
    assert lint(("hygiene",), "alerts:\n" + alert()).of("alert/missing-for") == []
    disabled = alert(extra="    lint:\n      disable: [alert/missing-for]\n      reason: an event, not a state\n")
    assert lint(("hygiene",), "alerts:\n" + disabled).of("alert/missing-for") == []


def test_name_case_hit(lint) -> None:
    linted = lint(("hygiene",), "alerts:\n" + alert(key="queue.full"))
    assert linted.of("alert/name-case") == [
        "alerts.yaml:2:3: error: alert name `Queue.full` is not CamelCase"
        " | hint: name the alert by a snake_case key (cache_hit_rate_critical -> CacheHitRateCritical)"]


def test_name_case_miss(lint) -> None:
    assert lint(("hygiene",), "alerts:\n" + alert(key="queue_full")).of("alert/name-case") == []


def test_warning_stricter_hit(lint) -> None:
    expr = "max by (job, instance) (queue_utilization) > {}"
    linted = lint(("hygiene",), "alerts:\n" + alert("queue_warning", expr.format(0.97))
                  + alert("queue_critical", expr.format(0.95), severity="critical"))
    assert linted.of("alert/warning-stricter") == [
        "alerts.yaml:3:11: error: warning `QueueWarning` (> 0.97) is stricter than critical `QueueCritical` (> 0.95):"
        " the critical alert fires first | hint: a warning threshold lies between the healthy range and the critical one"]


def test_warning_stricter_miss(lint) -> None:
    expr = "max by (job, instance) (queue_utilization) > {}"
    linted = lint(("hygiene",), "alerts:\n" + alert("queue_warning", expr.format(0.9))
                  + alert("queue_critical", expr.format(0.95), severity="critical"))
    assert linted.of("alert/warning-stricter") == []
