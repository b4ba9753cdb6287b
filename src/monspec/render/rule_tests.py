"""generated/prometheus/tests/: the promtool unit tests that monspec.promtest plans, one file per
rule chain (`tests/<chain>.yml`), each loading only the rules it needs (`tests/rules/<chain>.yml`,
the same rules as rules.yml in the same groups), so `promtool test rules tests/*.yml` costs
time linear in the number of rules. This module only writes them; promtest decides what they hold."""
from __future__ import annotations

import math

from monspec.model import Model
from monspec.promql import escape_label_value
from monspec.promtest.files import TestFile, plan, rule_places
from monspec.promtest.scenarios import Scenario, number_text, series_text, values_text
from monspec.render import yamltext
from monspec.render.rules import render_groups
from monspec.spec.durations import format_duration
from monspec.spec.thresholds import format_number

TESTS_DIR = "prometheus/tests"


def render(model: Model) -> dict[str, str]:
    gen, files = plan(model)
    out: dict[str, str] = {}
    places = rule_places(model)
    for test_file in files:
        groups = test_file.groups(model, places)
        out[f"{TESTS_DIR}/rules/{test_file.name}.yml"] = render_groups(model, groups)
        out[f"{TESTS_DIR}/{test_file.name}.yml"] = _test_text(test_file, [g.name for g in groups],
                                                              gen.interval, gen.eval_interval)
    return out


def _test_text(test_file: TestFile, group_names: list[str], interval: float, eval_interval: float) -> str:
    out = [f"# promtool unit tests: `promtool test rules {test_file.name}.yml` (or `monspec test`).",
           "# They load only the rules they need: rules/ holds them as rules.yml has them."]
    out += [f"# Not covered: {gap.line()}" for gap in test_file.uncovered]
    out += ["rule_files:", f"  - rules/{test_file.name}.yml", f"evaluation_interval: {format_duration(eval_interval)}"]
    # Recording rules first, as the expected timings assume (promtool's default order is random).
    out.append("group_eval_order:")
    out.extend(f"  - {yamltext.scalar(name, 2)}" for name in group_names)
    out.append("tests:")
    for scenario, kind in test_file.scenarios:
        _render_group(out, scenario, interval, kind)
    if not test_file.scenarios:
        out[-1] = "tests: []"
    return "\n".join(out) + "\n"


def _render_group(out: list[str], scenario: Scenario, interval: float, kind: str) -> None:
    s = yamltext.scalar
    last = max(t for t, _ in scenario.checks)
    steps = int(round(last / interval))
    out.append(f"  - name: {s(scenario.name, 4)}")
    out.append(f"    interval: {format_duration(interval)}")
    out.append("    input_series:")
    for k, spec in sorted(scenario.inputs.items()):
        out.append(f"      - series: {s(series_text(k), 8)}")
        out.append(f"        values: {s(values_text(spec, steps), 8)}")
    if kind == "record":
        render_expr_checks(out, [(t, check["expr"], check["samples"]) for t, check in scenario.checks])
        return
    alertname = scenario.name.split(" ", 1)[0]
    render_alert_checks(out, [(t, alertname, alerts) for t, alerts in scenario.checks])


def render_expr_checks(out: list[str], checks: list[tuple[float, str, list[tuple[dict[str, str], float]]]]) -> None:
    """A test group's `promql_expr_test`: (eval time, expression, [(labels, value)]) each."""
    s = yamltext.scalar
    out.append("    promql_expr_test:")
    for t, expr, samples in checks:
        out.append(f"      - expr: {s(expr, 8)}")
        out.append(f"        eval_time: {format_duration(t)}")
        out.append("        exp_samples:")
        for labels, value in samples:
            out.append(f"          - labels: {s(_labels_text(labels), 12)}")
            out.append(f"            value: {_value_text(value)}")


def render_alert_checks(out: list[str], checks: list[tuple[float, str, list[dict]]]) -> None:
    """A test group's `alert_rule_test`: (eval time, alert name, [{labels, annotations}]) each."""
    s = yamltext.scalar
    out.append("    alert_rule_test:")
    for t, alertname, alerts in checks:
        out.append(f"      - eval_time: {format_duration(t)}")
        out.append(f"        alertname: {s(alertname, 8)}")
        if not alerts:
            out.append("        exp_alerts: []")
            continue
        out.append("        exp_alerts:")
        for alert in alerts:
            out.append("          - exp_labels:")
            for k, v in alert["labels"].items():
                out.append(f"              {yamltext.key(k)}: {s(v, 14)}")
            out.append("            exp_annotations:")
            for k, v in alert["annotations"].items():
                out.append(f"              {yamltext.key(k)}: {s(v, 14)}")


def _labels_text(labels: dict[str, str]) -> str:
    labels = dict(labels)
    name = labels.pop("__name__", "")
    inner = ", ".join(f'{k}="{escape_label_value(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _value_text(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return f'"{number_text(value)}"'
    return repr(float(value)) if not float(value).is_integer() else format_number(value)
