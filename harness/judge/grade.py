"""Grade every variant's outputs with the judge; add per-item fields; summarise what the judge did.

Per row (samples.jsonl) the judge adds:
    judge_ok      the judge's reply could be read (strictly: harness/judge/prompts.py)
    judge_score   0-1: rubric grade normalised over the scale, or pairwise result against the
                  reference (1 win, 0.5 tie, 0 loss, averaged over both orders); None when not ok
    judge_reply   what the judge said (both orders for pairwise), clipped, so a reader can check it
    judge_flip    pairwise: both orders were read and disagree (position bias on this item)

The mean of ``judge_score`` over the rows that are ok is the ``judge_score`` metric
(harness/tasks/generation.py), so it goes through the same paired statistics, report
and gate as ROUGE-L. Unparseable replies are counted, never scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from harness.judge.backends import Judge
from harness.judge.cache import JudgeCache, content_key
from harness.judge.prompts import pairwise_messages, parse_grade, parse_verdict, rubric_messages
from harness.stats import intervals
from harness.suite.judge_spec import JudgeSpec

REPLY_CHARS = 200
_POINTS = {"win": 1.0, "tie": 0.5, "loss": 0.0}
# A verdict says which position won; the candidate's result depends on where it stood.
_AS_FIRST = {"A": "win", "B": "loss", "tie": "tie"}
_AS_SECOND = {"A": "loss", "B": "win", "tie": "tie"}


@dataclass
class Question:
    key: str
    messages: list[dict]


def ask_all(
    judge: Judge, cache: JudgeCache, questions: list[Question], on_batch: Callable[[int], None] | None = None
) -> dict[str, str]:
    """Every question's reply: from the cache, else asked of the judge once (duplicates asked once) and cached."""
    replies: dict[str, str] = {}
    missing: dict[str, list[dict]] = {}
    for q in questions:
        if q.key in replies or q.key in missing:
            continue
        cached = cache.get(q.key)
        if cached is None:
            missing[q.key] = q.messages
        else:
            replies[q.key] = cached
    if missing:
        for key, reply in zip(missing, judge.ask(list(missing.values()), on_batch=on_batch)):
            cache.put(key, reply)
            replies[key] = reply
    return replies


def _question(judge: Judge, spec: JudgeSpec, messages: list[dict]) -> Question:
    asked = {"mode": spec.mode, "scale": list(spec.scale), "messages": messages}
    return Question(content_key(judge.identity(), asked), messages)


def grade_rubric(
    spec: JudgeSpec,
    judge: Judge,
    cache: JudgeCache,
    rows_by_variant: dict[str, list[dict]],
    items: dict,
    on_batch: Callable[[int], None] | None = None,
) -> None:
    low, high = spec.scale
    asked: list[tuple[dict, Question]] = []
    for rows in rows_by_variant.values():
        for row in rows:
            item = items[row["item_id"]]
            reference = item.answer if spec.with_reference_answer else None
            messages = rubric_messages(spec.rubric, spec.scale, list(item.prompt), row["parsed"] or "", reference)
            asked.append((row, _question(judge, spec, messages)))
    replies = ask_all(judge, cache, [q for _, q in asked], on_batch)
    for row, q in asked:
        reply = replies[q.key]
        grade = parse_grade(reply, spec.scale)
        row["judge_reply"] = reply[:REPLY_CHARS]
        row["judge_ok"] = grade is not None
        row["judge_score"] = None if grade is None else (grade - low) / (high - low)


def grade_pairwise(
    spec: JudgeSpec,
    judge: Judge,
    cache: JudgeCache,
    rows_by_variant: dict[str, list[dict]],
    items: dict,
    on_batch: Callable[[int], None] | None = None,
) -> None:
    reference_rows = {row["item_id"]: row for row in rows_by_variant.get(spec.reference) or []}
    asked: list[tuple[dict, Question, Question]] = []
    for name, rows in rows_by_variant.items():
        if name == spec.reference:
            continue  # the yardstick is not compared with itself
        for row in rows:
            other = reference_rows.get(row["item_id"])
            if other is None:
                continue  # the reference failed on this item or did not run: nothing to compare with
            item = items[row["item_id"]]
            gold = item.answer if spec.with_reference_answer else None
            mine, theirs, prompt = row["parsed"] or "", other["parsed"] or "", list(item.prompt)
            # Both orders: a judge that prefers whatever stands first cancels out, and its flips are counted.
            first = _question(judge, spec, pairwise_messages(spec.rubric, prompt, mine, theirs, gold))
            second = _question(judge, spec, pairwise_messages(spec.rubric, prompt, theirs, mine, gold))
            asked.append((row, first, second))
    replies = ask_all(judge, cache, [q for _, a, b in asked for q in (a, b)], on_batch)
    for row, first, second in asked:
        v1, v2 = parse_verdict(replies[first.key]), parse_verdict(replies[second.key])
        ok = v1 is not None and v2 is not None
        row["judge_reply"] = [replies[first.key][:REPLY_CHARS], replies[second.key][:REPLY_CHARS]]
        row["judge_ok"] = ok
        row["judge_score"] = (_POINTS[_AS_FIRST[v1]] + _POINTS[_AS_SECOND[v2]]) / 2 if ok else None
        row["judge_flip"] = ok and _AS_FIRST[v1] != _AS_SECOND[v2]


def summarise(spec: JudgeSpec, rows: list[dict]) -> dict | None:
    """What the judge made of one variant's rows: how many replies were read, the score, the flips."""
    judged = [r for r in rows if "judge_ok" in r]
    if not judged:
        return None
    ok = [r for r in judged if r["judge_ok"]]
    summary = {
        "judged": len(judged),
        "parsed": len(ok),
        "unparsed": len(judged) - len(ok),
        "parse_rate": intervals.proportion(len(ok), len(judged)),
        "score": intervals.mean([r["judge_score"] for r in ok]),
    }
    if spec.mode == "pairwise":
        flips = sum(bool(r.get("judge_flip")) for r in ok)
        summary["flips"] = flips
        summary["flip_rate"] = intervals.proportion(flips, len(ok))
    return summary
