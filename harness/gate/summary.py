"""What a person reads: the Markdown summary (CI job summaries, PR comments) and the printed table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.gate.outcome import GateOutcome
from harness.gate.rules import Check
from harness.tasks.base import metric

HEADERS = ("rule", "verdict", "baseline", "run", "change", "limit", "interval", "p", "test")
RICH_STYLE = {"pass": "green", "fail": "bold red", "inconclusive": "yellow", "skipped": "dim"}


def _value(check: Check, value: float | None) -> str:
    if value is None:
        return ""
    return f"{value * 100:.1f}%" if check.unit == "share" else f"{value:g} {check.unit}"


def _change(check: Check) -> str:
    if check.delta is None:
        return ""
    delta = check.delta + 0.0  # no "-0.0"
    return f"{delta * 100:+.1f} pts" if check.unit == "share" else f"{delta:+g} {check.unit}"


def _limit(check: Check) -> str:
    if check.limit is None:
        return ""
    if check.kind == "floor":
        return f">= {check.limit * 100:.1f}%"
    if check.kind in ("drop", "forgetting"):
        return f"drop <= {check.limit * 100:.1f} pts"
    return f"<= {check.limit:g} {check.unit}"


def _interval(check: Check) -> str:
    if check.ci_low is None or check.ci_high is None or check.confidence is None:
        return ""
    if check.kind == "floor":
        return f"{check.confidence:.0%} [{check.ci_low * 100:.1f}, {check.ci_high * 100:.1f}]%"
    return (
        f"{check.confidence:.0%} [{check.ci_low * 100 + 0.0:+.1f}, {check.ci_high * 100 + 0.0:+.1f}] pts"  # no "-0.0"
    )


def _verdict_label(outcome: GateOutcome, check: Check) -> str:
    if check.verdict == "inconclusive":
        return {"fail": "inconclusive (fails)", "warn": "inconclusive (warning)", "pass": "inconclusive (passes)"}[
            outcome.inconclusive_policy
        ]
    return check.verdict


def cells(outcome: GateOutcome, check: Check) -> list[str]:
    return [
        check.rule,
        _verdict_label(outcome, check),
        _value(check, check.baseline),
        _value(check, check.run),
        _change(check),
        _limit(check),
        _interval(check),
        f"{check.p_value:.2g}" if check.p_value is not None else "",
        check.method or "",
    ]


def headline(outcome: GateOutcome) -> str:
    word = {"pass": "PASS", "fail": "FAIL (regression)", "inconclusive": "PASS with warnings (inconclusive)"}
    return f"bench gate: {word[outcome.verdict]} - suite {outcome.suite}, variant {outcome.variant}"


def accuracy_words(task_type: str | None) -> str:
    """ "accuracy", with what it means for the task type where that is not plain: "accuracy (pass rate)"."""
    means = metric("accuracy", task_type or "classification").means
    return f"accuracy ({means})" if means else "accuracy"


def sensitivity_line(outcome: GateOutcome) -> str:
    c = outcome.comparison
    discordant = c["accuracy_discordant"]["baseline_only_right"] + c["accuracy_discordant"]["run_only_right"]
    share = discordant / c["shared_items"]
    accuracy = accuracy_words(c.get("task_type"))
    if c["accuracy_mdd"] is None:
        return (
            f"At {c['shared_items']} shared items no {accuracy} drop can be detected with 80% power "
            f"at alpha {outcome.alpha:g}: the test set is too small."
        )
    margin = f" (allowed drop {c['accuracy_mdd_margin'] * 100:.1f} pts)" if c["accuracy_mdd_margin"] else ""
    runs = c.get("baseline_runs", 1)
    if runs > 1 and (c.get("drop_mdd") or {}).get("accuracy") is not None:
        sd = (c.get("between_run_sd") or {}).get("accuracy") or 0.0
        return (
            f"Minimum detectable {accuracy} drop: {c['drop_mdd']['accuracy'] * 100:.1f} pts at alpha "
            f"{outcome.alpha:g} (one-sided) and 80% power{margin}, for {c['shared_items']} shared items and a "
            f"baseline of K = {runs} runs, whose between-run SD beyond item noise is {sd * 100:.2f} pts."
        )
    return (
        f"Minimum detectable {accuracy} drop: {c['accuracy_mdd'] * 100:.1f} pts at alpha {outcome.alpha:g} "
        f"(one-sided) and 80% power{margin}, for {c['shared_items']} shared items of which "
        f"{share:.1%} disagree between baseline and run."
    )


def family_line(outcome: GateOutcome) -> str:
    """How the rules' level is controlled, naming the family size."""
    k = outcome.family
    if outcome.family_control == "holm" and k > 1:
        return (
            f"The {k} statistical rules are one family, tested one-sided with Holm's procedure at family-wise "
            f"alpha {outcome.alpha:g} (p-values shown raw; verdicts use the adjusted ones)."
        )
    if k > 1:
        return (
            f"Each of the {k} statistical rules is tested one-sided at alpha {outcome.alpha:g}, without family-wise "
            f"control: an A/A run can fail some rule up to {min(k * outcome.alpha, 1):.0%} of the time."
        )
    return f"{k} statistical rule, tested one-sided at alpha {outcome.alpha:g}."


def markdown_summary(outcome: GateOutcome) -> str:
    c = outcome.comparison
    sha = c["test_sha256_run"] or ""
    data = (
        f"test set `{sha[:12]}` unchanged"
        if c["test_sha256_baseline"] == sha
        else f"test set changed: `{(c['test_sha256_baseline'] or '')[:12]}` -> `{sha[:12]}`"
    )
    lines = [
        f"## {headline(outcome)}",
        "",
        f"Run `{outcome.run_dir}` (commit `{c['run_git_commit'] or 'unknown'}`) against baseline "
        f"`{outcome.baseline_path}` (variant `{outcome.baseline_variant}`, saved {c['baseline_saved']}, "
        f"commit `{c['baseline_git_commit'] or 'unknown'}`), "
        f"paired on **{c['shared_items']} shared items**; {data}. "
        f"{family_line(outcome)} Inconclusive results: {outcome.inconclusive_policy}.",
        "",
    ]
    if outcome.checks:
        lines += ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in cells(outcome, check)) + " |"
            for check in outcome.checks
        ]
    else:
        lines.append("_The suite's gate has no rules._")
    lines += ["", sensitivity_line(outcome)]
    failures = outcome.failures
    if failures:
        lines += ["", "### Regressions", ""] + [f"- {check.message}" for check in failures]
    warnings = [c for c in outcome.checks if c.verdict == "inconclusive" and c not in failures]
    if warnings:
        lines += ["", "### Inconclusive", ""] + [f"- {check.message}" for check in warnings]
    if outcome.notes:
        lines += ["", "### Notes", ""] + [f"- {note}" for note in outcome.notes]
    return "\n".join(lines) + "\n"


LOG_WIDTH = 160  # the gate table's ten columns unfolded, with room for the test's description


def print_outcome(outcome: GateOutcome, console: Console) -> None:
    with wide_unless_terminal(console):
        style = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}[outcome.verdict]
        table = Table(title=f"[{style}]{escape(headline(outcome))}[/]", title_justify="left")
        for header in HEADERS:
            table.add_column(header, justify="left" if header in ("rule", "verdict", "test", "limit") else "right")
        for check in outcome.checks:
            row = [escape(cell) for cell in cells(outcome, check)]
            row[1] = f"[{RICH_STYLE[check.verdict]}]{row[1]}[/]"
            table.add_row(*row)
        console.print(table)
        console.print(escape(sensitivity_line(outcome)))
        console.print(escape(family_line(outcome)))
        for check in outcome.failures:
            console.print(f"[bold red]regression:[/] {escape(check.message)}")
        for check in outcome.checks:
            if check.verdict == "inconclusive" and not outcome.counts_as_failure(check):
                console.print(f"[yellow]inconclusive:[/] {escape(check.message)}")
        for note in outcome.notes:
            console.print(f"[cyan]note:[/] {escape(note)}")
        for name, path in outcome.files.items():
            console.print(f"{name}: {escape(path)}")


@contextmanager
def wide_unless_terminal(console: Console, width: int = LOG_WIDTH) -> Iterator[None]:
    """Print at least ``width`` columns when the output is a log, not a terminal.

    rich sizes a console that is not a terminal at 80 columns and would fold every cell of the
    gate's table into a narrow column (``print(width=...)`` can only narrow a console, not widen
    it). A terminal keeps its own width: lines longer than the window would wrap worse.
    """
    if console.is_terminal or console.width >= width:
        yield
        return
    saved = console.width
    console.width = width
    try:
        yield
    finally:
        console.width = saved
