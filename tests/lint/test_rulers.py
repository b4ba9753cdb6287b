"""rule/record-name: recording rules named `level:metric:operations` (Mimir, Cortex, Thanos tools)."""
from __future__ import annotations

from support.lint_specs import CATALOG

NO_COLON = CATALOG.replace("  - record: latency_seconds:p95\n", "  - record: latency_seconds_p95\n")
IMPORTED = """\
rule_groups:
  legacy:
    rules:
      - record: job:requests:rate5m
        expr: sum by (job) (rate(requests_total[5m]))
      - record: requests_rate
        expr: sum by (job) (rate(requests_total[5m]))
"""


def test_record_name_without_colon_hit(lint) -> None:
    assert NO_COLON != CATALOG
    assert lint(("rulers",), catalog=NO_COLON).of("rule/record-name") == [
        "catalog.yaml:19:13: warning: recording rule `latency_seconds_p95` has no colon: Mimir, Cortex and Thanos "
        "tools expect `level:metric:operations` | hint: e.g. `job_instance:latency_seconds_p95:<operation>`, or "
        "disable with a reason when users rely on the name"]


def test_record_name_with_colon_miss(lint) -> None:
    assert lint(("rulers",)).of("rule/record-name") == []


def test_record_name_disabled_with_a_reason(lint) -> None:
    disabled = NO_COLON.replace(
        "    help: p95 latency.\n",
        "    help: p95 latency.\n    lint: {disable: [rule/record-name], reason: dashboards read this name}\n")
    assert disabled != NO_COLON
    assert lint(("rulers",), catalog=disabled).of("rule/record-name") == []


def test_record_name_of_imported_rules(lint) -> None:
    assert lint(("rulers",), catalog=CATALOG + IMPORTED).of("rule/record-name") == [
        "catalog.yaml:28:17: warning: recording rule `requests_rate` has no colon: Mimir, Cortex and Thanos "
        "tools expect `level:metric:operations` | hint: e.g. `job_instance:requests_rate:<operation>`, or "
        "disable with a reason when users rely on the name"]
