"""Errors a user can act on.

Every error bench expects (bad suite, bad data, missing model, missing optional
dependency) is a ``BenchError``: the CLI prints it without a traceback and exits
with code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    """One thing wrong with one input, located as precisely as we can."""

    file: str | None
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
        prefix = f"{where}: " if where else ""
        field = f"{self.field}: " if self.field else ""
        return f"{prefix}{field}{self.message}"


class BenchError(Exception):
    """A problem with the user's input or environment; exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems = problems or []

    def __str__(self) -> str:
        lines = [self.message]
        lines += [f"  {p}" for p in self.problems]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class MissingDependency(BenchError):
    def __init__(self, package: str, feature: str):
        super().__init__(
            f"{feature} needs the optional package '{package}', which is not installed",
            hint=f"pip install {package}",
        )


def require(module: str, *, package: str | None = None, feature: str):
    """Import an optional heavy dependency where it is used, with an install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(package or module, feature) from exc
