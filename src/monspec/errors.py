"""Problems a person can act on: file:line:col, the source line with a caret, and exit codes."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class ExitCode(enum.IntEnum):
    OK = 0
    PROBLEMS = 1
    USAGE = 2


@dataclass(frozen=True)
class Position:
    """A 1-indexed place in a spec file."""

    file: Path
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One finding: a stable id (`spec/unknown-field`), a severity, where, what, and how to fix it."""

    id: str
    message: str
    position: Position | None = None
    severity: str = "error"
    hint: str | None = None
    related: tuple[Position, ...] = ()
    source_line: str | None = None

    def render(self) -> str:
        where = f"{self.position}: " if self.position else ""
        out = [f"{where}{self.severity}: {self.message} [{self.id}]"]
        if self.position and self.source_line is not None:
            line = self.source_line.rstrip("\n").expandtabs(1)
            out.append(f"  {line}")
            out.append("  " + " " * (self.position.col - 1) + "^")
        for other in self.related:
            out.append(f"  also at {other}")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


class MonspecError(Exception):
    """Base of every error monspec reports to a user (exit code 1, no traceback)."""

    exit_code = ExitCode.PROBLEMS

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("monspec/error", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class SpecError(MonspecError):
    """The specs are wrong: syntax, schema or cross-reference problems."""


class ToolError(MonspecError):
    """An external program (promtool, amtool) failed or is missing."""


@dataclass
class Problems:
    """Collects problems from many checks, errors first when sorted."""

    items: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.items.append(problem)

    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    def sorted(self) -> list[Problem]:
        def key(p: Problem):
            pos = p.position
            return (str(pos.file) if pos else "", pos.line if pos else 0, pos.col if pos else 0, p.id)

        return sorted(self.items, key=key)
