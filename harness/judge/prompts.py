"""What the judge is asked, and how its reply is read: strictly, or not at all.

A reply counts only if it is exactly an answer the question allows (a whole
number on the scale; "A", "B" or "tie"), give or take surrounding whitespace and a
final full stop. Anything else is unparseable: counted and shown, never guessed
at, so a judge that rambles cannot quietly score as a middling grade.
"""

from __future__ import annotations

import re

VERDICTS = ("A", "B", "tie")
_INTEGER = re.compile(r"^[+-]?\d{1,4}$")


def _task_text(prompt: list[dict]) -> str:
    return "\n".join(m["content"] for m in prompt if m["role"] == "user")


def rubric_messages(
    rubric: str, scale: tuple[int, int], prompt: list[dict], output: str, reference: str | None = None
) -> list[dict]:
    low, high = scale
    system = (
        "You are a strict grader. Grade the answer against the rubric. "
        f"Reply with one whole number from {low} to {high} and nothing else."
    )
    parts = [f"Rubric: {rubric.strip()}", f"Task:\n{_task_text(prompt)}"]
    if reference is not None:
        parts.append(f"Reference answer:\n{reference}")
    parts += [f"Answer to grade:\n{output}", f"Grade ({low}-{high}):"]
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


def pairwise_messages(
    criterion: str, prompt: list[dict], first: str, second: str, reference: str | None = None
) -> list[dict]:
    system = (
        "You compare two answers to the same task. "
        "Reply with exactly A if answer A is better, B if answer B is better, or tie, and nothing else."
    )
    parts = [f"Task:\n{_task_text(prompt)}"]
    if criterion.strip():
        parts.insert(0, f"What makes an answer better: {criterion.strip()}")
    if reference is not None:
        parts.append(f"Reference answer:\n{reference}")
    parts += [f"Answer A:\n{first}", f"Answer B:\n{second}", "Better answer (A, B or tie):"]
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


def _bare(reply: str) -> str:
    text = reply.strip()
    return text[:-1].rstrip() if text.endswith(".") else text


def parse_grade(reply: str, scale: tuple[int, int]) -> int | None:
    """The grade when the reply is exactly a whole number on the scale; otherwise None."""
    text = _bare(reply)
    if not _INTEGER.match(text):
        return None
    grade = int(text)
    return grade if scale[0] <= grade <= scale[1] else None


def parse_verdict(reply: str) -> str | None:
    """ "A", "B" or "tie" when the reply is exactly one of them (tie in any case); otherwise None."""
    text = _bare(reply)
    if text in ("A", "B"):
        return text
    return "tie" if text.casefold() == "tie" else None
