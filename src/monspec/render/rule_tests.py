"""generated/prometheus/tests/: the promtool unit tests that monspec.promtest plans, one file per
rule chain (`tests/<chain>.yml`), each loading only the rules it needs (`tests/rules/<chain>.yml`,
the same rules as rules.yml in the same groups), so `promtool test rules tests/*.yml` costs
time linear in the number of rules."""
from __future__ import annotations

from monspec.model import Model
from monspec.promtest.files import TestFile, plan
from monspec.promtest.scenarios import _render_group
from monspec.render import yamltext
from monspec.render.templates import GENERATED, render_template
from monspec.spec.durations import format_duration

TESTS_DIR = "prometheus/tests"


def render(model: Model) -> dict[str, str]:
    gen, files = plan(model)
    out: dict[str, str] = {}
    for test_file in files:
        groups = test_file.groups(model)
        out[f"{TESTS_DIR}/rules/{test_file.name}.yml"] = render_template("rules.yml.j2", groups=groups)
        out[f"{TESTS_DIR}/{test_file.name}.yml"] = _test_text(test_file, [g.name for g in groups],
                                                              gen.interval, gen.eval_interval)
    return out


def _test_text(test_file: TestFile, group_names: list[str], interval: float, eval_interval: float) -> str:
    out = [f"# {GENERATED}",
           f"# promtool unit tests: `promtool test rules {test_file.name}.yml` (or `monspec test`).",
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
