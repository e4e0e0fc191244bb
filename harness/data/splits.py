"""A suite's data splits: read every file, check it line by line, fingerprint it, find cross-split leakage.

Every problem in a file is collected (file:line, field, what was expected)
before raising. What one line must hold is ``harness.data.chat``'s rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import BenchError, Problem
from harness.data.chat import Item, parse_chat_line
from harness.tasks import Task

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Split:
    name: str
    path: Path
    items: tuple[Item, ...]
    sha256: str  # of the file's bytes

    def summary(self) -> dict:
        labels: dict[str, int] = {}
        for item in self.items:
            labels[item.label or ""] = labels.get(item.label or "", 0) + 1
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "items": len(self.items),
            "labels": dict(sorted(labels.items())),
        }


def read_split(name: str, path: Path, task: Task) -> Split:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BenchError(
            f"data file for split '{name}' not found: {path}",
            problems=[
                Problem(str(path), None, f"task.data.{name}", "file not found (paths are relative to the suite file)")
            ],
        ) from None
    except OSError as exc:
        raise BenchError(
            f"cannot read data file {path}: {exc}",
            problems=[Problem(str(path), None, f"task.data.{name}", f"cannot read: {exc.strerror or exc}")],
        ) from None
    problems: list[Problem] = []
    items: list[Item] = []
    seen_ids: dict[str, int] = {}
    text = raw.decode("utf-8", errors="replace")
    # Split on newlines only: str.splitlines() also breaks on U+2028 and other
    # characters that JSON allows unescaped inside strings.
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        item = parse_chat_line(line, line_no, name, path, task, problems)
        if item is None:
            continue
        if item.id in seen_ids:
            problems.append(
                Problem(str(path), line_no, "id", f"duplicate id '{item.id}' (first on line {seen_ids[item.id]})")
            )
            continue
        seen_ids[item.id] = line_no
        items.append(item)
    if not items and not problems:
        problems.append(Problem(str(path), None, None, f"split '{name}' is empty: expected at least one JSONL line"))
    if problems:
        shown = problems[:50]
        more = f" (showing the first {len(shown)})" if len(problems) > len(shown) else ""
        raise BenchError(f"{path}: {len(problems)} problem(s) in the {name} data{more}", problems=shown)
    return Split(name=name, path=path, items=tuple(items), sha256=hashlib.sha256(raw).hexdigest())


def load_splits(files: dict[str, Path], task: Task) -> dict[str, Split]:
    """Read every split, collecting every file's problems before raising."""
    splits: dict[str, Split] = {}
    problems: list[Problem] = []
    for name, path in files.items():
        try:
            splits[name] = read_split(name, path, task)
        except BenchError as exc:
            problems += exc.problems or [Problem(str(path), None, None, exc.message)]
    if problems:
        raise BenchError(f"{len(problems)} problem(s) in the suite's data", problems=problems[:80])
    return splits


def find_overlap(splits: dict[str, Split]) -> list[tuple[str, Item, str, Item]]:
    """Items whose content appears in two splits (train/test leakage)."""
    first_seen: dict[str, tuple[str, Item]] = {}
    overlaps = []
    for name in SPLITS:
        for item in splits[name].items if name in splits else ():
            if item.content_hash in first_seen and first_seen[item.content_hash][0] != name:
                overlaps.append((*first_seen[item.content_hash], name, item))
            first_seen.setdefault(item.content_hash, (name, item))
    return overlaps


def load_suite_data(suite, task: Task, *, warn=print) -> dict[str, Split]:
    """Every split a suite names, checked, with its leakage policy applied."""
    splits = load_splits(suite.data_files(), task)
    overlap = find_overlap(splits)
    if overlap:
        problems = [
            Problem(
                later.source.rsplit(":", 1)[0],
                int(later.source.rsplit(":", 1)[1]),
                "messages",
                f"same content as {first.source} ({first_split} split)",
            )
            for first_split, first, _, later in overlap[:20]
        ]
        message = f"{len(overlap)} item(s) appear in two splits (train/test leakage)"
        if suite.spec.task.leakage == "error":
            raise BenchError(message, problems=problems, hint="remove the repeated items, or set task.leakage: warn")
        warn(f"warning: {message}; first: {problems[0]}")
    return splits
