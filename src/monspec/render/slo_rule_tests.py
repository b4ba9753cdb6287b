"""generated/prometheus/tests/slo-<slo>_<step>.yml: promtool test files per SLO (scenarios:
`monspec.promtest.slo`), each loading only its SLO's rule group (`tests/rules/slo-<slo>.yml`,
as rules.yml has it), beside the per-chain files of `render.rule_tests`.

promtool sets the evaluation interval per file, so each SLO's scenarios are split by the
coarsest step their windows and `for` allow (1m for the fast page pair, 5m for the others):
the ticket windows need hours of simulated time, which at 30 s steps would dominate
`monspec test`.
"""
from __future__ import annotations

from monspec.model import Model
from monspec.model.objective import Objective
from monspec.promtest.promsim import key
from monspec.promtest.scenarios import series_text
from monspec.promtest.slo import SloScenario, plan
from monspec.render import yamltext
from monspec.render.rule_tests import render_alert_checks, render_expr_checks
from monspec.render.templates import render_template
from monspec.spec import SpecSet
from monspec.spec.durations import format_duration

FOLDER = "prometheus/tests"


def render(model: Model) -> dict[str, str]:
    files = {}
    for objective in model.objectives:
        name = slo_file_name(objective)
        tests = plan(model, objective)
        header = [f"# promtool unit tests of the SLO `{objective.name}` (`monspec test` runs them); they load only",
                  "# the SLO's rule group: rules/ holds it as rules.yml has it."]
        if tests.uncovered:
            files[f"{FOLDER}/{name}.yml"] = "\n".join(
                header + [f"# Not covered: {line}" for line in tests.uncovered] + ["tests: []"]) + "\n"
            continue
        files[f"{FOLDER}/rules/{name}.yml"] = slo_rules_text(model.specs, objective)
        for step, (planner, scenarios) in sorted(tests.files.items()):
            out = header + ["rule_files:", f"  - rules/{name}.yml", f"evaluation_interval: {format_duration(step)}",
                            "group_eval_order:", f"  - {yamltext.scalar(objective.group.name, 2)}", "tests:"]
            for scenario in scenarios:
                _render_group(out, planner, scenario)
            files[f"{FOLDER}/{name}_{format_duration(step)}.yml"] = "\n".join(out) + "\n"
    return files


def slo_file_name(objective: Objective) -> str:
    return f"slo-{objective.name}"


def slo_rules_text(specs: SpecSet, objective: Objective) -> str:
    """The SLO's own rule group, as rules.yml writes it: all its test files load."""
    return render_template(specs, "rules.yml.j2", groups=[objective.group])


def _render_group(out: list[str], planner, scenario: SloScenario) -> None:
    s = yamltext.scalar
    out.append(f"  - name: {s(scenario.name, 4)}")
    out.append(f"    interval: {format_duration(planner.interval)}")
    out.append("    input_series:")
    for labels, steps in sorted(planner.inputs(scenario), key=lambda item: series_text(key(item[0]))):
        out.append(f"      - series: {s(series_text(key(labels)), 8)}")
        out.append(f"        values: {s(planner.values(steps, scenario.end), 8)}")
    if scenario.alert_checks:
        render_alert_checks(out, scenario.alert_checks)
    if scenario.expr_checks:
        render_expr_checks(out, scenario.expr_checks)
