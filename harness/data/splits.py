"""A suite's data splits: read every file, check it line by line, fingerprint it, find cross-split leakage.

Every problem in a file is collected (file:line, field, what was expected)
before raising. What one line must hold is ``harness.data.chat``'s rule; a
table's rows become the same items through ``harness.data.tables``. When a
suite names train and test only, a validation split is carved from train here.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from harness.core.errors import BenchError, Problem
from harness.data.chat import Item, parse_chat_line
from harness.data.tables import items_sha256, read_rows, source_record, table_items
from harness.data.text import decoded_lines
from harness.tasks import Task
from harness.tasks.data_spec import DataSource

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Split:
    name: str
    path: Path
    items: tuple[Item, ...]
    sha256: str  # chat JSONL: of the file's bytes; a table or a carved split: of its items (tables.items_sha256)
    source: dict | None = None  # a table's format, columns, template, file hash; how a split was carved

    def summary(self) -> dict:
        labels: dict[str, int] = {}
        for item in self.items:
            labels[item.label or ""] = labels.get(item.label or "", 0) + 1
        summary = {
            "path": str(self.path),
            "sha256": self.sha256,
            "items": len(self.items),
            "labels": dict(sorted(labels.items())),
        }
        return {**summary, "source": self.source} if self.source else summary


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
    # Split on newlines only: str.splitlines() also breaks on U+2028 and other
    # characters that JSON allows unescaped inside strings. A line that is not
    # UTF-8 is a problem at its byte offset, never silently replaced.
    for line_no, line in decoded_lines(raw, path, problems):
        if line is None or not line.strip():
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


def read_table_split(name: str, source: DataSource, path: Path | None, task: Task) -> Split:
    """A table (or datasets folder, or hub dataset) as a split: every row checked, every problem at once."""
    rows = read_rows(name, source, path)
    items, problems = table_items(name, rows, source, task)
    if problems:
        shown = problems[:50]
        more = f" (showing the first {len(shown)})" if len(problems) > len(shown) else ""
        raise BenchError(f"{rows.where}: {len(problems)} problem(s) in the {name} data{more}", problems=shown)
    return Split(
        name=name,
        path=path if path is not None else Path(rows.where),
        items=tuple(items),
        sha256=items_sha256(items),
        source=source_record(rows, source, name),
    )


def read_source(name: str, source: DataSource, path: Path | None, task: Task) -> Split:
    """One split as the suite names it: chat JSONL, or a table mapped by its columns."""
    if source.is_chat:
        assert path is not None
        return read_split(name, path, task)
    return read_table_split(name, source, path, task)


def load_splits(files: dict[str, Path | tuple[DataSource, Path | None]], task: Task) -> dict[str, Split]:
    """Read every split (a chat JSONL path, or a source and its resolved path), collecting every file's
    problems before raising."""
    splits: dict[str, Split] = {}
    problems: list[Problem] = []
    for name, entry in files.items():
        source, path = entry if isinstance(entry, tuple) else (DataSource(path=str(entry)), entry)
        try:
            splits[name] = read_source(name, source, path, task)
        except BenchError as exc:
            problems += exc.problems or [Problem(str(path or ""), None, None, exc.message)]
    if problems:
        raise BenchError(f"{len(problems)} problem(s) in the suite's data", problems=problems[:80])
    return splits


def carve_validation(train: Split, share: float, seed: int, task: Task) -> tuple[Split, Split]:
    """(train without the carved items, validation): ``share`` of train, stratified by label, seeded.

    Items with the same content move together, so the two parts never share an item (which the
    leakage check would refuse); a label with a single training item stays in train. Both keep
    the file's order.
    """
    from sklearn.model_selection import train_test_split

    groups: dict[str, list[int]] = {}
    for index, item in enumerate(train.items):
        groups.setdefault(item.content_hash, []).append(index)
    keys = list(groups)
    labels = [train.items[groups[k][0]].label or "" for k in keys] if task.needs_label else None
    if labels is not None:
        counts = Counter(labels)
        pool = [i for i, label in enumerate(labels) if counts[label] >= 2]
    else:
        pool = list(range(len(keys)))
    try:
        _, chosen = train_test_split(
            pool,
            test_size=share,
            random_state=seed,
            stratify=[labels[i] for i in pool] if labels is not None else None,
        )
    except ValueError as exc:
        raise BenchError(
            f"cannot carve a {share:g} validation split from train ({len(train.items)} items): {exc}",
            hint="name a validation file in task.data, change task.data.validation_share, or set it to 0",
        ) from None
    moved = {index for i in chosen for index in groups[keys[i]]}
    kept = tuple(item for index, item in enumerate(train.items) if index not in moved)
    carved = tuple(item for index, item in enumerate(train.items) if index in moved)
    origin = train.source or {"format": "chat", "file_sha256": train.sha256}
    how = {"carved_from": "train", "share": share, "seed": seed, "stratified": labels is not None}
    validation = Split("validation", train.path, carved, items_sha256(carved), {**origin, **how})
    rest = replace(train, items=kept, sha256=items_sha256(kept), source={**origin, "validation_carved": len(carved)})
    return rest, validation


def _located(source: str) -> tuple[str, int | None, str]:
    """An item's source as (file, line, field): ``file:12`` names a line, a table's ``file: row 12`` a row."""
    match = re.fullmatch(r"(.*):(\d+)", source)
    if match:
        return match.group(1), int(match.group(2)), "messages"
    file, _, row = source.rpartition(": ")
    return file, None, row


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
    """Every split a suite names, checked, a validation split carved when only train and test are named,
    with its leakage policy applied."""
    data = suite.spec.task.data
    splits = load_splits(suite.data_sources(), task)
    share = data.carve_share()
    if share and "train" in splits:
        splits["train"], splits["validation"] = carve_validation(splits["train"], share, suite.spec.seed, task)
        splits = {name: splits[name] for name in SPLITS if name in splits}
    overlap = find_overlap(splits)
    if overlap:
        problems = [
            Problem(
                *_located(later.source),
                f"same content as {first.source} ({first_split} split)",
            )
            for first_split, first, _, later in overlap[:20]
        ]
        message = f"{len(overlap)} item(s) appear in two splits (train/test leakage)"
        if suite.spec.task.leakage == "error":
            raise BenchError(message, problems=problems, hint="remove the repeated items, or set task.leakage: warn")
        warn(f"warning: {message}; first: {problems[0]}")
    return splits
