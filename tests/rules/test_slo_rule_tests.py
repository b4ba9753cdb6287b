"""The generated SLO tests (generated/prometheus/tests/slo-*.yml) pass on the generated rules, and they pin
each SLO: the mutation test changes a burn factor, a window or the objective in the spec, compiles
the rules again and runs the unchanged tests against them — every mutant must fail. (That the tests
pass on the generated rules is test_generated_rule_tests' promtool run over every test file.)"""
from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from monspec.model.objective import objectives, window_text
from monspec.render.slo_rule_tests import slo_file_name, slo_rules_text
from monspec.spec import load_specs
from monspec.spec.durations import parse_duration
from monspec.toolcheck.unit_tests import parse_promtool_failures

ROOT = Path(__file__).resolve().parents[2]


def _specs():
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return load_specs(Path("specs"))
    finally:
        os.chdir(cwd)


def _test_files(generated: Path) -> list[Path]:
    return sorted((generated / "prometheus" / "tests").glob("slo-*.yml"))


def test_every_slo_alert_has_its_four_behaviours(generated: Path) -> None:
    names = [group["name"] for path in _test_files(generated) for group in yaml.safe_load(path.read_text())["tests"]]
    specs = _specs()
    assert len(specs.slos) >= 2
    for objective in objectives(specs):
        assert f"SLO {objective.name}: error budget recordings with error ratio" in " ".join(names)
        for alert in objective.burn_alerts:
            for behaviour in ("fires: ", "stays quiet: ", "recovers: "):
                assert any(n.startswith(f"{alert.rule.name} {behaviour}") for n in names), (alert.rule.name, behaviour)
        assert any(n.startswith(f"SLO {objective.name}: burn-rate alerts wait for their long windows") for n in names)
    assert not any("Not covered" in path.read_text() for path in _test_files(generated))


def test_budget_recordings_are_exact(generated: Path) -> None:
    """Half the budget spent: 1 - ratio / budget, exactly as Prometheus computes it."""
    path = generated / "prometheus" / "tests" / "slo-get_availability_1m.yml"
    [group] = [g for g in yaml.safe_load(path.read_text())["tests"] if "error budget recordings" in g["name"]]
    values = {check["expr"]: check["exp_samples"][0]["value"] for check in group["promql_expr_test"]}
    ratio = values['slo:sli_error:ratio_rate30d{slo="get_availability"}']
    assert ratio == 524 / 2**20  # j / 2^p: exactly representable
    assert values['slo:objective:ratio{slo="get_availability"}'] == 0.999
    assert values['slo:error_budget:ratio{slo="get_availability"}'] == 0.001
    assert values['slo:period_error_budget_remaining:ratio{slo="get_availability"}'] == 1 - ratio / 0.001


# --- mutants ----------------------------------------------------------------------------------

def _scale_factor(specs, _objective, severity, pair) -> None:
    pair.factor = pair.factor * (1.05 if severity == "page" else 0.95)


def _double_long(specs, _objective, _severity, pair) -> None:
    pair.long = window_text(2 * parse_duration(pair.long))


def _double_short(specs, _objective, _severity, pair) -> None:
    pair.short = window_text(2 * parse_duration(pair.short))


MUTANTS = {"factor": _scale_factor, "long window": _double_long, "short window": _double_short}


def _mutated_rules(mutate) -> dict[str, str]:
    """Each SLO's rule file (as its tests load it), compiled from the mutated spec."""
    specs = _specs()
    found = objectives(specs)
    for objective in found:
        if mutate == "objective":
            objective.slo.objective = 100 - (100 - objective.slo.objective) * Decimal("1.1")
            continue
        for severity, sev in objective.severities:
            for pair in sev.windows:
                pair.name = objective.alert_name(pair)  # the tests name the alert, keep it
                mutate(specs, objective, severity, pair)
    return {slo_file_name(o): slo_rules_text(specs, o) for o in objectives(specs)}


def _run(generated: Path, folder: Path, rules: dict[str, str]) -> list[subprocess.Popen]:
    (folder / "rules").mkdir(parents=True)
    for name, text in rules.items():
        (folder / "rules" / f"{name}.yml").write_text(text)
    procs = []
    for path in _test_files(generated):
        shutil.copy(path, folder / path.name)
        procs.append(subprocess.Popen(["promtool", "test", "rules", path.name], cwd=folder,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    return procs


def _failed(procs: list[subprocess.Popen]) -> set[str]:
    """Alert names (and `expr` for expression checks) of the failing cases."""
    failed = set()
    for proc in procs:
        output, _ = proc.communicate(timeout=900)
        for case, _detail in parse_promtool_failures(output):
            what = case.split(": ")[-1]
            failed.add(what.split(" ")[1] if what.startswith("alert ") else "expr")
    return failed


@pytest.mark.parametrize("kind", [*MUTANTS, "objective"])
def test_mutated_slo_fails_its_tests(promtool: str, generated: Path, tmp_path: Path, kind: str) -> None:
    specs = _specs()
    alerts = {a.rule.name for objective in objectives(specs) for a in objective.burn_alerts}
    rules = _mutated_rules(kind if kind == "objective" else MUTANTS[kind])
    assert rules != {slo_file_name(o): slo_rules_text(specs, o) for o in objectives(specs)}
    failed = _failed(_run(generated, tmp_path, rules))
    assert alerts - failed == set(), f"mutants that survived ({kind}): {sorted(alerts - failed)}"
    if kind == "objective":
        assert "expr" in failed  # the budget recordings moved too
