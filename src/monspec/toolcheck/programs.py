"""promtool, amtool and vmalert, run as subprocesses; a missing program is a ToolError naming its package."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from monspec.errors import ToolError
from monspec.promql import escape_label_value

PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager", "vmalert": "victoria-metrics"}


@dataclass
class ToolResult:
    args: list[str]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def find(program: str) -> str:
    path = shutil.which(program)
    if not path:
        package = PACKAGES.get(program, program)
        raise ToolError(f"{program} not found on PATH: install the Debian package `{package}` "
                        f"(or run `make programs`)")
    return path


def run(program: str, *args: str, cwd: Path | None = None, timeout: float = 120, interleaved: bool = False) -> ToolResult:
    """Output is stdout then stderr, or both as the program wrote them (`interleaved`)."""
    argv = [find(program), *args]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT if interleaved else subprocess.PIPE,
                          text=True, cwd=cwd, timeout=timeout)
    return ToolResult(argv, proc.returncode, (proc.stdout + (proc.stderr or "")).strip())


def promtool_check_rules(rules: Path) -> ToolResult:
    return run("promtool", "check", "rules", str(rules))


def promtool_test_rules(*tests: Path) -> ToolResult:
    """`promtool test rules` on test files of one folder (their `rule_files` are relative to it); each
    file's failures follow its `Unit Testing:` heading."""
    return run("promtool", "test", "rules", *(t.name for t in tests), cwd=tests[0].parent, timeout=1800,
               interleaved=True)


def vmalert_dry_run(rules: Path) -> ToolResult:
    """VictoriaMetrics' vmalert parses the rules as its engine would run them, and exits."""
    return run("vmalert", "-dryRun", f"-rule={rules}", "-loggerLevel=ERROR")


def promtool_check_config(config: Path) -> ToolResult:
    return run("promtool", "check", "config", "--syntax-only", str(config))


def amtool_check_config(config: Path) -> ToolResult:
    return run("amtool", "check-config", str(config))


def amtool_routes_test(config: Path, labels: dict[str, str], expect: list[str] | None = None) -> ToolResult:
    """`amtool config routes test`: prints the receivers (comma-separated) an alert with these labels reaches;
    with `expect`, exits non-zero when they differ."""
    args = ["config", "routes", "test", f"--config.file={config}"]
    if expect is not None:
        args.append("--verify.receivers=" + ",".join(expect))
    args += [f'{k}="{escape_label_value(v)}"' for k, v in sorted(labels.items())]
    return run("amtool", *args)
