"""Chat JSONL data: read, check line by line, fingerprint.

One line is one item: ``{"id": "...", "messages": [{"role": ..., "content": ...}, ...]}``.
Roles run: an optional ``system``, then ``user`` / ``assistant`` turns alternating,
ending with the ``assistant`` answer, which is the gold reference. Every problem
in a file is collected (file:line, field, what was expected) before raising.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import BenchError, Problem
from harness.tasks import Task

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Item:
    id: str
    prompt: tuple[dict, ...]  # every message before the final answer
    answer: str  # the gold assistant message
    label: str | None  # for classification: the label the answer names
    source: str  # "file:line", for messages that point at the data
    content_hash: str  # of prompt + answer; finds the same item under another id

    def prompt_messages(self) -> list[dict]:
        return [dict(m) for m in self.prompt]


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
        return {"path": str(self.path), "sha256": self.sha256, "items": len(self.items), "labels": dict(sorted(labels.items()))}


def content_hash(prompt: list[dict], answer: str) -> str:
    canonical = json.dumps([[m["role"], " ".join(m["content"].split())] for m in prompt] + [["assistant", " ".join(answer.split())]])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def read_split(name: str, path: Path, task: Task) -> Split:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BenchError(f"data file for split '{name}' not found: {path}",
                         problems=[Problem(str(path), None, f"task.data.{name}", "file not found (paths are relative to the suite file)")]) from None
    except OSError as exc:
        raise BenchError(f"cannot read data file {path}: {exc}",
                         problems=[Problem(str(path), None, f"task.data.{name}", f"cannot read: {exc.strerror or exc}")]) from None
    problems: list[Problem] = []
    items: list[Item] = []
    seen_ids: dict[str, int] = {}
    text = raw.decode("utf-8", errors="replace")
    # Split on newlines only: str.splitlines() also breaks on U+2028 and other
    # characters that JSON allows unescaped inside strings.
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        item = _parse_line(line, line_no, name, path, task, problems)
        if item is None:
            continue
        if item.id in seen_ids:
            problems.append(Problem(str(path), line_no, "id", f"duplicate id '{item.id}' (first on line {seen_ids[item.id]})"))
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


def _parse_line(line: str, line_no: int, split: str, path: Path, task: Task, problems: list[Problem]) -> Item | None:
    where = (str(path), line_no)

    def fail(field: str | None, message: str) -> None:
        problems.append(Problem(*where, field, message))

    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        fail(None, f"not valid JSON ({exc.msg} at column {exc.colno})")
        return None
    if not isinstance(row, dict):
        fail(None, "expected a JSON object with a 'messages' list")
        return None
    unknown = set(row) - {"id", "messages", "metadata"}
    if unknown:
        fail(sorted(unknown)[0], "unknown field; a line holds 'messages' and optionally 'id' and 'metadata'")
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        fail("messages", "expected a non-empty list of {role, content} objects")
        return None
    if not _check_roles(messages, fail):
        return None
    prompt, answer = messages[:-1], messages[-1]["content"]
    problem = task.check_gold(answer)
    if problem:
        fail(f"messages[{len(messages) - 1}].content", problem)
        return None
    label = task.label_of(answer) if task.needs_label else None
    item_id = row.get("id", f"{split}-{line_no}")
    if not isinstance(item_id, (str, int)):
        fail("id", "expected a string or integer")
        return None
    return Item(
        id=str(item_id),
        prompt=tuple({"role": m["role"], "content": m["content"]} for m in prompt),
        answer=answer,
        label=label,
        source=f"{path}:{line_no}",
        content_hash=content_hash(prompt, answer),
    )


def _check_roles(messages: list, fail) -> bool:
    ok = True
    expected = "user"
    for index, message in enumerate(messages):
        field = f"messages[{index}]"
        if not isinstance(message, dict) or set(message) - {"role", "content"} or "role" not in message or "content" not in message:
            fail(field, "expected an object with exactly 'role' and 'content'")
            return False
        role, content = message["role"], message["content"]
        if not isinstance(content, str) or not content.strip():
            fail(f"{field}.content", "expected non-empty text")
            ok = False
        if index == 0 and role == "system":
            continue
        if role != expected:
            fail(f"{field}.role", f"expected '{expected}' here, got {role!r} (roles: optional system, then user/assistant alternating, ending with assistant)")
            return False
        expected = "assistant" if role == "user" else "user"
    if messages[-1].get("role") != "assistant":
        fail(f"messages[{len(messages) - 1}].role", "the last message must be the assistant's answer")
        return False
    return ok


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
        problems = [Problem(later.source.rsplit(":", 1)[0], int(later.source.rsplit(":", 1)[1]), "messages",
                            f"same content as {first.source} ({first_split} split)")
                    for first_split, first, _, later in overlap[:20]]
        message = f"{len(overlap)} item(s) appear in two splits (train/test leakage)"
        if suite.spec.task.leakage == "error":
            raise BenchError(message, problems=problems, hint="remove the repeated items, or set task.leakage: warn")
        warn(f"warning: {message}; first: {problems[0]}")
    return splits
