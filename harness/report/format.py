"""How numbers read in the report: one place, so HTML, Markdown and prose agree."""

from __future__ import annotations

from harness.core.text import sentence  # noqa: F401  (re-exported: the report's modules use it from here)

DASH = "—"  # shown where a value does not exist (a variant that did not train has no train time)
RANK_FORMAT = "not measured (rank mode)"  # format compliance of a variant that chose among well-formed answers
CLASSICAL_FORMAT = "not applicable (classical)"  # a classical classifier writes its label into the format
NBSP = "\u00a0"  # between a number and its unit, so "45.0 s" never breaks across lines


def num(value: float | None, digits: int = 3) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 3) -> str:
    if value is None:
        return DASH
    text = f"{value:+.{digits}f}"
    return text.replace("-", "−")  # a real minus sign: easier to read than a hyphen


def pvalue(value: float | None) -> str:
    if value is None:
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def pct(value: float | None, digits: int = 0) -> str:
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def seconds(value: float | None) -> str:
    if value is None:
        return DASH
    if value < 60:
        return f"{value:.1f}{NBSP}s"
    if value < 3600:
        return f"{int(value // 60)}{NBSP}min {int(value % 60)}{NBSP}s"
    return f"{int(value // 3600)}{NBSP}h {int(value % 3600 // 60)}{NBSP}min"


def megabytes(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value / 1024:.1f}{NBSP}GB" if value >= 1024 else f"{value:.0f}{NBSP}MB"


def size_bytes(value: float | None) -> str:
    if not value:
        return DASH
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f}{NBSP}{unit}" if unit == "B" else f"{value:.1f}{NBSP}{unit}"
        value /= 1024
    return DASH


def count(value: float | None) -> str:
    if value is None:
        return DASH
    if value >= 1e9:
        return f"{value / 1e9:.2f} B"
    if value >= 1e6:
        return f"{value / 1e6:.1f} M"
    if value >= 1e4:
        return f"{value / 1e3:.0f} k"
    return f"{value:,.0f}"


def share(value: float | None) -> str:
    """Trainable share: small numbers matter here (0.12%), so keep two significant digits."""
    if value is None:
        return DASH
    if value == 0:
        return "0%"
    return f"{value * 100:.2g}%" if value < 0.01 else f"{value * 100:.1f}%"
