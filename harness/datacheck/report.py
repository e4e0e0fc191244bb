"""What a data check found: findings, per-split statistics, what a cleaned copy drops.

Severity, and what it means for the exit code of `bench data check`:
    error    the data is wrong for training or testing (bad lines, leakage, one input with two answers)
    warning  worth a look before training (duplicates, imbalance, label shift, length outliers)
Any error or warning makes the exit code 1; a clean report gives 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

REPORT_SCHEMA_VERSION = 1
SHOWN_PER_CHECK = 8  # the readable report shows this many findings per check; the JSON has all


@dataclass(frozen=True)
class Finding:
    check: str  # format, duplicate_id, exact_duplicate, conflicting_answers, near_duplicate, leakage, near_leakage,
    #             missing_label, label_imbalance, label_shift, length_outlier
    severity: str  # "error" or "warning"
    split: str
    message: str
    sources: tuple[str, ...] = ()  # "file:line" of every item involved
    score: float | None = None  # similarity, ratio or distance, where the check has one


@dataclass
class SplitStats:
    name: str
    path: str
    sha256: str
    lines: int  # non-blank lines
    items: int  # lines that passed the format checks
    labels: dict[str, int] | None  # None when answers are free text
    words: dict[str, float]  # min / median / p95 / max words per item


@dataclass
class DataCheckReport:
    splits: dict[str, SplitStats]
    findings: list[Finding]
    options: dict
    # split -> {line number: why a cleaned copy leaves that line out}
    removals: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors: fit to train on (warnings may remain)."""
        return not self.errors

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def to_json(self) -> dict:
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "summary": {
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "exit_code": self.exit_code,
                "lines_a_fix_drops": {name: len(lines) for name, lines in self.removals.items()},
            },
            "options": self.options,
            "splits": {name: asdict(stats) for name, stats in self.splits.items()},
            "findings": [asdict(f) for f in self.findings],
            "removals": {
                name: {str(line): why for line, why in sorted(lines.items())} for name, lines in self.removals.items()
            },
        }


def render(report: DataCheckReport, console: Console) -> None:
    table = Table("split", "file", "items", "labels", "words (median / p95 / max)", title="bench data check")
    for stats in report.splits.values():
        labels = ", ".join(f"{k} {v}" for k, v in stats.labels.items()) if stats.labels is not None else "free text"
        bad = f" ([red]{stats.lines - stats.items} bad[/])" if stats.lines > stats.items else ""
        words = stats.words
        table.add_row(
            stats.name,
            escape(Path(stats.path).name),
            f"{stats.items}{bad}",
            escape(labels),
            f"{words['median']:.0f} / {words['p95']:.0f} / {words['max']:.0f}" if words else "-",
        )
    console.print(table)
    for severity, colour in (("error", "red"), ("warning", "yellow")):
        found = [f for f in report.findings if f.severity == severity]
        if not found:
            continue
        console.print(f"\n[bold {colour}]{severity}s ({len(found)})[/]")
        checks = list(dict.fromkeys(f.check for f in found))
        for check in checks:
            of_check = [f for f in found if f.check == check]
            for finding in of_check[:SHOWN_PER_CHECK]:
                console.print(f"  [{colour}]{check}[/] {escape(finding.message)}", highlight=False)
            if len(of_check) > SHOWN_PER_CHECK:
                console.print(f"  [{colour}]{check}[/] ... and {len(of_check) - SHOWN_PER_CHECK} more (see --json)")
    dropped = {name: len(lines) for name, lines in report.removals.items() if lines}
    if dropped:
        console.print(
            f"\na cleaned copy leaves out {sum(dropped.values())} line(s) ("
            + ", ".join(f"{name}: {count}" for name, count in dropped.items())
            + ")"
        )
    verdict = (
        "[green]clean[/]"
        if not report.findings
        else f"[red]{len(report.errors)} error(s)[/], [yellow]{len(report.warnings)} warning(s)[/]"
    )
    console.print(f"\nresult: {verdict} (exit code {report.exit_code})")
