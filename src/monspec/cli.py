"""The `monspec` command: parse options, call one stage, map errors to exit codes.

Exit codes: 0 ok, 1 problems in specs or output, 2 usage.
"""
from __future__ import annotations

import functools
import gc
import json
import os
import sys
from pathlib import Path

import click

from monspec.errors import ExitCode, MonspecError, Problem

# monspec's spec models use no pydantic plugins: skip pydantic's scan of every installed
# package's entry points for them (a tenth of a bundled-spec generate). A user's setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")

SPECS = click.option("--specs", "specs_dir", type=click.Path(path_type=Path), default=Path("specs"),
                     show_default=True, help="Folder of spec files.")
TIMEOUT = click.option("--timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True,
                       help="Seconds each HTTP request may take in all (connect, send, answer).")
OUT = click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("generated"),
                   show_default=True, help="Output folder.")


def report(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(problem.render(), err=True)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if problems:
        click.echo(f"{errors} error(s), {warnings} warning(s)", err=True)


def handled(command):
    """Turn MonspecError into its report and exit code 1; --debug shows the traceback instead."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            return command(*args, **kwargs)
        except MonspecError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            report(exc.problems)
            ctx.exit(int(exc.exit_code))
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="monspec")
def main(debug: bool) -> None:
    """Monitoring as code: compile specs/ into Prometheus, Alertmanager, Grafana and Kubernetes files."""


@main.command()
@SPECS
@OUT
@handled
def generate(specs_dir: Path, out_dir: Path) -> None:
    """Compile the specs and write the output folder (all or nothing)."""
    from monspec.build import compile_specs
    from monspec.output import changed_files, read_tree, write_tree

    build = compile_specs(specs_dir)
    report(build.problems)
    changed = len(changed_files(read_tree(out_dir), build.files))
    write_tree(out_dir, build.files, specs_dir=specs_dir)
    click.echo(f"wrote {len(build.files)} files to {out_dir}/ ({changed} changed)")


@main.command()
@SPECS
@OUT
@handled
def check(specs_dir: Path, out_dir: Path) -> None:
    """Lint, then fail with a short diff when the output folder is stale (for CI)."""
    from monspec.build import compile_specs
    from monspec.output import diff_tree

    build = compile_specs(specs_dir)
    report(build.problems)
    diff = diff_tree(out_dir, build.files)
    if diff:
        click.echo("\n".join(diff), err=True)
        click.echo(f"{out_dir}/ is stale: run `monspec generate` (or `make generate`) and commit the result", err=True)
        sys.exit(ExitCode.PROBLEMS)
    click.echo(f"{out_dir}/ is up to date ({len(build.files)} files)")


@main.command()
@SPECS
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handled
def lint(specs_dir: Path, fmt: str) -> None:
    """List every problem in the specs, with file:line:col; exit 1 on errors."""
    from monspec.build import lint_specs

    specs, problems = lint_specs(specs_dir)
    if fmt == "json":
        click.echo(json.dumps([_problem_json(p) for p in problems], indent=2))
    else:
        report(problems)
    if any(p.severity == "error" for p in problems):
        sys.exit(ExitCode.PROBLEMS)
    if fmt == "text":
        click.echo(f"{len(specs.files)} spec files, no errors")


def _problem_json(p: Problem) -> dict:
    pos = p.position
    return {"id": p.id, "severity": p.severity, "message": p.message, "hint": p.hint,
            "file": str(pos.file) if pos else None, "line": pos.line if pos else None, "col": pos.col if pos else None}


@main.command()
@SPECS
@OUT
@click.option("--junit", type=click.Path(path_type=Path), help="Also write a JUnit XML report.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="promtool and amtool processes to run at once.")
@handled
def test(specs_dir: Path, out_dir: Path, junit: Path | None, jobs: int) -> None:
    """Run the real promtool, vmalert (when installed) and amtool on the output folder."""
    from click.core import ParameterSource

    from monspec.toolcheck.unit_tests import run_tool_tests, write_junit

    ctx = click.get_current_context()
    if ctx.get_parameter_source("out_dir") != ParameterSource.DEFAULT and \
            ctx.get_parameter_source("specs_dir") == ParameterSource.DEFAULT:
        raise click.UsageError("`--out` names another output folder: give `--specs` too, the specs it was "
                               "generated from (the routing and coverage checks read them)")
    results = run_tool_tests(specs_dir, out_dir, jobs)
    for result in results:
        click.echo(result.report(), err=not result.ok)
    if junit:
        write_junit(results, junit)
    failed = [r for r in results if not r.ok]
    skipped = sum(r.skipped for r in results)
    click.echo(f"{len(results) - len(failed) - skipped} passed, {len(failed)} failed"
               + (f", {skipped} skipped" if skipped else ""))
    if failed:
        sys.exit(ExitCode.PROBLEMS)


@main.command()
@SPECS
@click.option("--prometheus", "prometheus_url", required=True, help="Base URL of a running Prometheus.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@TIMEOUT
@handled
def verify(specs_dir: Path, prometheus_url: str, fmt: str, timeout: float) -> None:
    """Evaluate every KPI against a live Prometheus: exit 0 OK, 1 WARNING / no data, 2 CRITICAL, 3 unreachable."""
    from monspec.remote.prometheus import PrometheusClient, PrometheusUnreachable, VerifyStatus
    from monspec.remote.prometheus import verify as run_verify
    from monspec.spec import load_specs

    specs = load_specs(specs_dir)
    try:
        report = run_verify(specs, PrometheusClient(prometheus_url, timeout))
    except PrometheusUnreachable as exc:
        click.echo(f"UNKNOWN: {exc.problems[0].message}", err=True)
        sys.exit(VerifyStatus.UNKNOWN)
    click.echo(report.as_json() if fmt == "json" else report.as_table())
    sys.exit(report.exit_code)


@main.command()
@click.option("--out", "out_file", type=click.Path(path_type=Path), help="Write here instead of stdout.")
def schema(out_file: Path | None) -> None:
    """JSON Schema of the spec files, for editors' YAML language servers."""
    from monspec.spec.schema import spec_schema

    text = json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
    if out_file:
        out_file.write_text(text)
    else:
        click.echo(text, nl=False)


@main.command()
@SPECS
@click.option("--grafana-url", required=True, help="Base URL of Grafana, e.g. https://grafana.example.com.")
@click.option("--folder", help="Grafana folder (default: project.grafana.folder, else the project's title).")
@click.option("--folder-uid", help="Uid of that folder (default: project.grafana.folder_uid, else a slug of its name).")
@click.option("--message", help="Version message in Grafana's history (default: the git commit pushed from).")
@click.option("--dry-run", is_flag=True, help="Only print what would change.")
@click.option("--token-file", type=click.Path(path_type=Path), help="Read the API token from this file instead of $GRAFANA_TOKEN.")
@TIMEOUT
@click.option("--insecure", is_flag=True, help="Allow plain http to a host other than this machine (the token travels unencrypted).")
@handled
def push(specs_dir: Path, grafana_url: str, folder: str | None, folder_uid: str | None, message: str | None,
         dry_run: bool, token_file: Path | None, timeout: float, insecure: bool) -> None:
    """Create or update the dashboards in Grafana over its HTTP API (idempotent)."""
    from monspec.remote.grafana import push as push_dashboards
    from monspec.remote.grafana import read_token

    push_dashboards(specs_dir, grafana_url, read_token(token_file), folder=folder, folder_uid=folder_uid,
                    message=message, dry_run=dry_run, echo=click.echo, timeout=timeout, insecure=insecure)



@main.group()
def demo() -> None:
    """The bundled specs live on loopback: Redis, two `ucm demo` instances, Prometheus, Alertmanager."""


def _default_workdir() -> Path:
    from monspec.demo.stack import default_workdir

    return default_workdir()


def _workdir_option(fn):
    # The default is computed when a demo command runs: importing the demo stack (its process and
    # HTTP modules) for every `monspec` call cost a tenth of a bundled-spec generate.
    return click.option("--workdir", type=click.Path(path_type=Path, file_okay=False), default=_default_workdir,
                        show_default="${TMPDIR:-/tmp}/monspec-demo-$(id -u)",
                        help="Folder holding every program's state, logs and demo.json.")(fn)


@demo.command("start")
@_workdir_option
@click.option("--generated", type=click.Path(path_type=Path, file_okay=False), default=Path("generated"),
              show_default=True, help="The generated/ folder whose rules and routing to run.")
@click.option("--foreground", is_flag=True, help="Stay attached: Ctrl-C stops everything.")
@handled
def demo_start(workdir: Path, generated: Path, foreground: bool) -> None:
    """Start the demo stack in the background (stop it with `monspec demo stop`)."""
    import time

    from monspec.demo.stack import Stack

    stack = Stack.plan(workdir, generated).start()
    for line in stack.describe():
        click.echo(line)
    if foreground:
        click.echo("Ctrl-C stops the demo.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            stack.stop()
            click.echo(f"stopped the demo in {stack.workdir}")


@demo.command("stop")
@_workdir_option
@handled
def demo_stop(workdir: Path) -> None:
    """Stop exactly the processes `monspec demo start` started (by pid and start time)."""
    from monspec.demo.stack import Stack

    stack = Stack.load(workdir)
    running = [name for name, program in stack.programs.items() if program.running]
    stack.stop()
    click.echo(f"stopped {len(running)} processes of the demo in {stack.workdir}" + (f": {', '.join(running)}" if running else ""))


@demo.command("fault")
@click.argument("name", required=False)
@_workdir_option
@handled
def demo_fault(name: str | None, workdir: Path) -> None:
    """Break the running demo the way NAME says (no NAME: list them), or `recover`."""
    from monspec.demo.faults import FAULTS, FAULTS_BY_NAME, recover
    from monspec.demo.stack import Stack

    if name is None or (name not in FAULTS_BY_NAME and name != "recover"):
        if name is not None:
            click.echo(f"unknown fault {name!r}", err=True)
        click.echo("faults: " + ", ".join(f.name for f in FAULTS) + "; recover repairs any of them")
        sys.exit(0 if name is None else int(ExitCode.USAGE))
    stack = Stack.load(workdir)
    if name == "recover":
        recover(stack)
        click.echo("recovered: every program runs its usual command line; alerts resolve within their windows")
        return
    fault = FAULTS_BY_NAME[name]
    fault.inject(stack)
    click.echo(f"{fault.name}: {fault.what}")
    click.echo(f"expect firing: {', '.join(fault.fires) or 'none'}" + (f"; muted: {', '.join(fault.muted)}" if fault.muted else ""))
    if fault.slow:
        click.echo(f"expect pending, firing after the fault: {', '.join(fault.slow)}")
    for receiver, alerts in fault.notified.items():
        click.echo(f"expect one notification each to {receiver}: {', '.join(alerts)}")
    click.echo(f"expect verify: {fault.verify.text()}")
    click.echo(f"watch: {stack.prometheus_url}/alerts and {stack.workdir / 'receiver' / 'receiver.log'}")


@main.command("import")
@click.argument("rules_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--out", "out_file", type=click.Path(path_type=Path), help="Write the spec file here instead of stdout.")
@click.option("--specs", "specs_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Specs folder the import joins (its project and catalog); default: the --out file's folder.")
@click.option("--name", help="Project name for a new project section (default: from the file name).")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@handled
def import_(rules_file: Path, out_file: Path | None, specs_dir: Path | None, name: str | None, force: bool) -> None:
    """Convert a Prometheus rule file or PrometheusRule manifest into spec YAML."""
    from monspec.importer import existing_specs, import_file

    if out_file is not None and out_file.exists() and not force:
        raise MonspecError(f"{out_file} exists: pass --force to overwrite it")
    result = import_file(rules_file, existing_specs(specs_dir, out_file), name)
    if out_file is None:
        click.echo(result.text, nl=False)
    else:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(result.text)
    click.echo((f"imported {result.slos} SLO(s)" if result.slos else f"imported {result.groups} group(s), {result.rules} rule(s)")
               + (f" into {out_file}" if out_file else "")
               + (f"; {len(result.unverified)} metric(s) marked unverified: {', '.join(result.unverified)}" if result.unverified else ""),
               err=True)


def run() -> None:
    """The `monspec` command: `main`, with the collector frozen for the interpreter's exit. Exit
    runs one more full collection over every object still alive, which after a compile of 100
    services' specs took 0.4 s of CPU to free memory the process gives back anyway."""
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
