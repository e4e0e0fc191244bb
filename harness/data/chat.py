"""One chat JSONL line: the rule every reader of chat data shares (splits, retrieval corpora, data checks).

One line is one item: ``{"id": "...", "messages": [{"role": ..., "content": ...}, ...]}``.
Roles run: an optional ``system``, then ``user`` / ``assistant`` turns alternating,
ending with the ``assistant`` answer, which is the gold reference. A line's
problems are recorded with file:line and the field, never raised one by one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import Problem
from harness.core.limits import MAX_JSON_DEPTH, MAX_LINE_CHARS, clip, json_depth
from harness.tasks import Task


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


def content_hash(prompt: list[dict], answer: str) -> str:
    canonical = json.dumps(
        [[m["role"], " ".join(m["content"].split())] for m in prompt] + [["assistant", " ".join(answer.split())]]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_chat_line(
    line: str, line_no: int, split: str, path: Path, task: Task, problems: list[Problem]
) -> Item | None:
    """One line of a split file as an ``Item``; None (and problems recorded) when it is not one."""
    row = read_json_object(line, line_no, path, problems, expected="expected a JSON object with a 'messages' list")
    if row is None:
        return None
    return chat_item(row, line_no, path, task, problems, default_id=f"{split}-{line_no}")


def read_json_object(line: str, line_no: int, path: Path, problems: list[Problem], *, expected: str) -> dict | None:
    """The line as a JSON object, or None with the problem recorded at file:line.

    Bounded first (harness/core/limits.py): a line of many megabytes or nested
    thousands deep is refused as a problem, not left to exhaust memory or the stack.
    """
    if len(line) > MAX_LINE_CHARS:
        problems.append(
            Problem(str(path), line_no, None, f"the line is {len(line):,} characters; the limit is {MAX_LINE_CHARS:,}")
        )
        return None
    try:
        row = json.loads(line)
        too_deep = json_depth(row) > MAX_JSON_DEPTH
    except json.JSONDecodeError as exc:
        problems.append(Problem(str(path), line_no, None, f"not valid JSON ({exc.msg} at column {exc.colno})"))
        return None
    except RecursionError:  # deeper than Python's own parser goes
        too_deep = True
    except ValueError as exc:  # a number Python will not convert (more than 4,300 digits)
        problems.append(Problem(str(path), line_no, None, f"not valid JSON ({str(exc).split(';')[0][:120]})"))
        return None
    if too_deep:
        problems.append(
            Problem(str(path), line_no, None, f"nested more than {MAX_JSON_DEPTH} levels deep (objects and lists)")
        )
        return None
    if not isinstance(row, dict):
        problems.append(Problem(str(path), line_no, None, expected))
        return None
    return row


def chat_item(
    row: dict, line_no: int, path: Path, task: Task, problems: list[Problem], *, default_id: str
) -> Item | None:
    """A chat row (``id``, ``messages``, ``metadata``) as an ``Item``: roles in order, a well-formed gold answer."""

    def fail(field: str | None, message: str) -> None:
        problems.append(Problem(str(path), line_no, field, message))

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
    item_id = row.get("id", default_id)
    if isinstance(item_id, bool) or not isinstance(item_id, (str, int)):  # true would become the id "True"
        fail("id", f"expected a string or integer, got {clip(item_id)}")
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
        if (
            not isinstance(message, dict)
            or set(message) - {"role", "content"}
            or "role" not in message
            or "content" not in message
        ):
            fail(field, "expected an object with exactly 'role' and 'content'")
            return False
        role, content = message["role"], message["content"]
        if not isinstance(content, str) or not content.strip():
            fail(f"{field}.content", "expected non-empty text")
            ok = False
        if index == 0 and role == "system":
            continue
        if role != expected:
            fail(
                f"{field}.role",
                f"expected '{expected}' here, got {clip(role)} (roles: optional system, then user/assistant alternating, ending with assistant)",
            )
            return False
        expected = "assistant" if role == "user" else "user"
    if messages[-1].get("role") != "assistant":
        fail(f"messages[{len(messages) - 1}].role", "the last message must be the assistant's answer")
        return False
    return ok
