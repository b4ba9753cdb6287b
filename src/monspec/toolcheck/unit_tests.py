"""`monspec test`: the real promtool, vmalert and amtool run on the output folder, one result per case."""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from monspec.errors import ToolError
from monspec.toolcheck import programs


@dataclass
class CaseResult:
    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False

    def line(self) -> str:
        status = "skip" if self.skipped else "ok  " if self.ok else "FAIL"
        first = self.detail.strip().splitlines()[0] if self.detail.strip() and not self.ok else ""
        return f"{status} {self.name}" + (f": {first}" if first else "")

    def report(self) -> str:
        """The line, and for a failure the tool's whole output below it, indented (the first line alone
        rarely says which labels or values differed)."""
        rest = self.detail.strip().splitlines()[1:] if not self.ok else []
        return "\n".join([self.line(), *(f"    {line}" for line in rest)])


def run_tool_tests(specs_dir: Path, out_dir: Path, jobs: int = 1) -> list[CaseResult]:
    """Every check on the output folder; `jobs` promtool / amtool processes run at once."""
    results = []
    rules = out_dir / "prometheus" / "rules.yml"
    if rules.exists():
        r = programs.promtool_check_rules(rules)
        results.append(CaseResult(f"promtool check rules {rules}", r.ok, r.output))
        results.append(vmalert_check(rules))
    else:
        results.append(CaseResult(f"promtool check rules {rules}", False, "file missing: run `monspec generate`"))
    config = out_dir / "prometheus" / "prometheus.yml"
    if config.exists():
        r = programs.promtool_check_config(config)
        results.append(CaseResult(f"promtool check config {config}", r.ok, r.output))
    results.extend(promtool_test_folder(out_dir / "prometheus" / "tests", jobs))
    results.append(coverage(specs_dir))
    results.extend(amtool_tests(specs_dir, out_dir, jobs))
    return results


def vmalert_check(rules: Path) -> CaseResult:
    """`vmalert -dryRun`: the rules load unchanged on VictoriaMetrics. Skipped when vmalert is not
    installed, except under CI=true, where a missing program is a failure."""
    name = f"vmalert -dryRun -rule={rules}"
    try:
        r = programs.vmalert_dry_run(rules)
    except ToolError as exc:
        if os.environ.get("CI", "").lower() == "true":
            return CaseResult(name, False, exc.problems[0].message)
        return CaseResult(name, True, exc.problems[0].message, skipped=True)
    return CaseResult(name, r.ok, r.output)


def promtool_test_folder(folder: Path, jobs: int = 1) -> list[CaseResult]:
    """promtool test rules on every test file of the folder (generated/prometheus/tests)."""
    files = sorted(folder.glob("*.yml"))
    if not files:
        return [CaseResult(f"promtool test rules {folder}/*.yml", False, "no test files: run `monspec generate`")]
    return promtool_test_files(files, jobs)


def promtool_test_files(files: list[Path], jobs: int = 1) -> list[CaseResult]:
    """promtool test rules on test files of one folder, in `jobs` batches run side by side (promtool
    runs one file after another); one result per file, or one per failing case."""
    batches = [files[i::jobs] for i in range(min(jobs, len(files)))]
    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        outputs = list(pool.map(lambda batch: programs.promtool_test_rules(*batch).output, batches))
    sections: dict[str, str] = {}
    for output in outputs:
        sections.update(_per_file(output))
    results = []
    for path in files:
        output = sections.get(path.name, "")
        name = f"promtool test rules {path}"
        if "SUCCESS" in output and "FAILED" not in output:
            results.append(CaseResult(name, True, output))
            continue
        cases = parse_promtool_failures(output)
        results += [CaseResult(f"{name}: {case}", False, detail) for case, detail in cases] or [
            CaseResult(name, False, output or "promtool reported nothing for this file")]
    return results


def _per_file(output: str) -> dict[str, str]:
    """promtool's report of several files, split at its `Unit Testing:  <file>` headings."""
    sections: dict[str, str] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("Unit Testing:"):
            current = line.split(":", 1)[1].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


_CASE = re.compile(r"^(alertname: (?P<alert>.+?)|expr: (?P<expr>.+?)), time: (?P<time>[^,]+),?$")


def promtool_unit_tests(tests: Path) -> list[CaseResult]:
    """promtool test rules: one result for the file, plus one per failing case (test group, alert or
    expression, eval time) parsed from promtool's report, with that case's exp/got as detail."""
    r = programs.promtool_test_rules(tests)
    name = f"promtool test rules {tests}"
    if r.ok:
        return [CaseResult(name, True, r.output)]
    cases = parse_promtool_failures(r.output)
    return [CaseResult(f"{name}: {case}", False, detail) for case, detail in cases] or [CaseResult(name, False, r.output)]


def parse_promtool_failures(output: str) -> list[tuple[str, str]]:
    """(case name, detail) for each failing case of `promtool test rules` output (promtool 2.x format)."""
    cases: list[tuple[str, list[str]]] = []
    group = ""
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("name: ") and line.endswith(","):
            group = line[len("name: "):-1]
            continue
        match = _CASE.match(line)
        if match:
            what = f"alert {match.group('alert')}" if match.group("alert") else f"expr {match.group('expr')}"
            label = f"{group}: " if group else ""
            group = ""  # promtool names the test group before alert failures only
            cases.append((f"{label}{what} at {match.group('time').strip()}", [line]))
        elif cases and line:
            cases[-1][1].append(line)
    return [(case, "\n".join([_summary(lines)] + lines)) for case, lines in cases]


def _summary(lines: list[str]) -> str:
    """One line saying what differs: the number of firing alerts, or the expression's values."""
    text = "\n".join(lines)
    if lines[0].startswith("alertname:") and "got:" in text:
        expected, got = text.split("got:", 1)
        e, g = expected.count("Labels:"), got.count("Labels:")
        return f"expected {e} firing alert(s), got {g}" + (" with other labels or annotations" if e == g else "")
    exp = next((line for line in lines if line.startswith("exp:")), "")
    got = next((line for line in lines if line.startswith("got:")), "")
    return f"{exp} | {got}" if exp or got else lines[-1]


def coverage(specs_dir: Path) -> CaseResult:
    """Every rule of the specs has generated tests, or the spec acknowledges the gap with a reason."""
    import monspec.render  # noqa: F401  (the planner writes through the render package; load it first)
    from monspec.model import build_model
    from monspec.promtest.files import uncovered
    from monspec.spec import load_specs

    gaps = uncovered(build_model(load_specs(specs_dir)))
    open_gaps = [gap for gap in gaps if gap.acknowledged is None]
    accepted = [f"{gap.what}: {gap.reason} (acknowledged: {gap.acknowledged})" for gap in gaps if gap.acknowledged]
    if open_gaps:
        lines = [f"{gap.what}: {gap.reason}" for gap in open_gaps]
        hint = ("simplify each condition, or acknowledge the gap in its spec: "
                "lint: {disable: [test/uncovered], reason: \"…\"} (`monspec lint` shows where)")
        return CaseResult(f"{len(open_gaps)} rules not covered by generated tests", False, "\n".join([*lines, *accepted, hint]))
    name = "generated tests cover every rule" + (f" ({len(accepted)} gaps acknowledged)" if accepted else "")
    return CaseResult(name, True, "\n".join(accepted))


def write_junit(results: list[CaseResult], path: Path) -> None:
    failures = sum(not r.ok for r in results)
    cases = []
    for r in results:
        first = r.detail.splitlines()[0] if r.detail else "failed"
        body = (f"<skipped message={quoteattr(first)}/>" if r.skipped else "" if r.ok
                else f"<failure message={quoteattr(first)}>{escape(r.detail)}</failure>")
        cases.append(f'  <testcase classname="monspec" name={quoteattr(r.name)}>{body}</testcase>')
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="monspec test" tests="{len(results)}" failures="{failures}" '
        f'skipped="{sum(r.skipped for r in results)}">\n'
        + "\n".join(cases) + "\n</testsuite>\n")


def amtool_tests(specs_dir: Path, out_dir: Path, jobs: int = 1) -> list[CaseResult]:
    """amtool check-config, then for every alert of rules.yml `amtool config routes test` with its labels,
    verifying the receivers that the routing spec's tree promises (Routing.receivers_for)."""
    import yaml

    from monspec.spec import load_specs

    config = out_dir / "alertmanager" / "alertmanager.yml"
    if not config.exists():
        return []
    r = programs.amtool_check_config(config)
    results = [CaseResult(f"amtool check-config {config}", r.ok, r.output)]
    routing = load_specs(specs_dir).routing
    rules = out_dir / "prometheus" / "rules.yml"
    if routing is None or not rules.exists():
        return results

    def route_test(rule: dict) -> CaseResult:
        labels = {**{str(k): str(v) for k, v in (rule.get("labels") or {}).items()}, "alertname": rule["alert"]}
        expect = routing.receivers_for(labels)
        r = programs.amtool_routes_test(config, labels, expect)
        got = next((line for line in r.output.splitlines() if line and not line.lower().startswith("warning")), "")
        detail = r.output if r.ok else f"expected receivers {','.join(expect)}, amtool routed to {got}\n{r.output}"
        severity = labels.get("severity", "")
        return CaseResult(
            f"amtool config routes test {rule['alert']}" + (f" (severity={severity})" if severity else "")
            + f" -> {','.join(expect)}", r.ok, detail)

    alerts = [rule for group in (yaml.safe_load(rules.read_text()) or {}).get("groups") or []
              for rule in group.get("rules") or [] if "alert" in rule]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results.extend(pool.map(route_test, alerts))
    return results
