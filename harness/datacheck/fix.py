"""Write cleaned copies of checked files: the kept lines, byte for byte, in their order.

The input files are never opened for writing. A copy goes beside its input as
``<name>.clean.jsonl`` or into ``out_dir``; a destination that is an input file
is refused. Which lines go was decided by the checks (``report.removals``).
"""

from __future__ import annotations

from pathlib import Path

from harness.core.errors import BenchError
from harness.core.files import atomic_write_bytes
from harness.datacheck.report import DataCheckReport


def cleaned_path(source: Path, out_dir: Path | None) -> Path:
    name = source.name[: -len(".jsonl")] if source.name.endswith(".jsonl") else source.stem
    return (out_dir or source.parent) / f"{name}.clean.jsonl"


def write_cleaned(report: DataCheckReport, out_dir: str | Path | None = None) -> dict[str, Path]:
    """One cleaned copy per split; returns split -> path written."""
    out = Path(out_dir) if out_dir else None
    inputs = {Path(stats.path).resolve() for stats in report.splits.values()}
    targets = {name: cleaned_path(Path(stats.path), out) for name, stats in report.splits.items()}
    clashes = [str(t) for t in targets.values() if t.resolve() in inputs]
    if clashes or len({t.resolve() for t in targets.values()}) < len(targets):
        shown = ", ".join(clashes or map(str, targets.values()))
        raise BenchError(
            f"cleaned copies would overwrite an input or each other: {shown}",
            hint="pass --out DIR to write them elsewhere",
        )
    written = {}
    for name, stats in report.splits.items():
        dropped = report.removals.get(name, {})
        # Bytes, not text: a kept line is copied exactly as it was (lines that are not UTF-8 were flagged
        # and are among the dropped ones), so cleaning never changes what it keeps.
        raw = Path(stats.path).read_bytes()
        kept = [
            line
            for number, line in enumerate(raw.split(b"\n"), start=1)
            if line.decode("utf-8", errors="replace").strip() and number not in dropped  # blank as the checks read it
        ]
        atomic_write_bytes(targets[name], b"".join(line + b"\n" for line in kept))
        written[name] = targets[name]
    return written
