"""Sort a variant's bad outputs into failure modes a reader can act on.

Every per-item row that is not both correct and well-formed falls into exactly
one mode, checked in this order (the first that applies names the cause):
    empty        nothing but whitespace came back
    overlong     the output ran into max_new_tokens without a well-formed answer
    invalid      nothing could be read: no valid label, no JSON object, or
                 (generation) a constraint broken
    wrong_label  an answer was read, and it is wrong: a wrong label, a wrong
                 field, a text below the ROUGE-L pass mark
    format_only  right, but not well-formed: the label not in the answer format,
                 the record not fitting the schema (a generation pass is
                 well-formed by definition, so it has no such mode)
The first four count against accuracy; ``format_only`` counts only against
format compliance. Each task type names the modes in its own words.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

EXAMPLES_PER_MODE = 3
TOP_PROBLEMS = 5
TEXT_LIMIT = 280  # characters of input or output shown per example


@dataclass(frozen=True)
class Mode:
    title: str  # short, for a table header
    help: str  # one clause the page's lead text explains it with


_EMPTY = Mode("empty", "only whitespace came back")
_OVERLONG = Mode("overlong", "used all {max_new_tokens} new tokens allowed without a well-formed answer")
MODES_BY_TASK = {
    "classification": {
        "empty": _EMPTY, "overlong": _OVERLONG,
        "invalid": Mode("invalid format", "no label could be read"),
        "wrong_label": Mode("wrong label", "a label was read, and it is wrong"),
        "format_only": Mode("label right, format wrong", "correct for accuracy, but not format-compliant"),
    },
    "extraction": {
        "empty": _EMPTY, "overlong": _OVERLONG,
        "invalid": Mode("no JSON object", "no JSON object could be read from the output"),
        "wrong_label": Mode("wrong fields", "a record was read, and at least one field is wrong"),
        "format_only": Mode("fields right, schema broken",
                            "every field right, but not one JSON object that fits the schema"),
    },
    "generation": {
        "empty": _EMPTY, "overlong": _OVERLONG,
        "invalid": Mode("constraint broken", "the text breaks at least one of the suite's constraints"),
        "wrong_label": Mode("below pass mark", "every constraint met, but ROUGE-L against the reference is below "
                                               "{min_rouge_l}"),
    },
}
PROBLEMS_TITLE = {"classification": "most confused (gold → predicted)", "extraction": "fields most often wrong",
                  "generation": "constraints most often broken"}


def modes_for(task_type: str, *, max_new_tokens: int | None = None, min_rouge_l: float | None = None) -> dict[str, Mode]:
    """The task type's modes, in checking order, with the run's limits written into their help."""
    modes = MODES_BY_TASK.get(task_type, MODES_BY_TASK["classification"])
    limits = {"max_new_tokens": max_new_tokens or "the",
              "min_rouge_l": "the suite's mark" if min_rouge_l is None else min_rouge_l}
    return {key: Mode(mode.title, mode.help.format(**limits)) for key, mode in modes.items()}


@dataclass
class Example:
    item_id: str
    gold: str | None
    parsed: str | None
    output: str
    input: str | None
    reading: str = ""  # what the task read from the output, in words


@dataclass
class FailureModes:
    variant: str
    n_items: int
    counts: dict[str, int] = field(default_factory=dict)  # mode -> items, every mode present (0 when none)
    examples: dict[str, list[Example]] = field(default_factory=dict)
    confused_pairs: list[tuple[str, str, int]] = field(default_factory=list)  # (gold, predicted, count), most first
    top_problems: list[tuple[str, int]] = field(default_factory=list)  # wrong fields, broken constraints; most first

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def failure_mode(row: dict, max_new_tokens: int | None, task_type: str = "classification") -> str | None:
    text = row.get("raw_output") or ""
    if row.get("correct") and row.get("format_ok"):
        return None
    if not text.strip():
        return "empty"
    if max_new_tokens and (row.get("output_tokens") or 0) >= max_new_tokens and not row.get("format_ok"):
        return "overlong"
    # A generation's text is always "read"; what makes it unusable is a broken constraint.
    unreadable = not row.get("format_ok") if task_type == "generation" else row.get("parsed") is None
    if unreadable:
        return "invalid"
    if not row.get("correct"):
        return "wrong_label"
    return "format_only"


def categorise(variant: str, rows: list[dict], max_new_tokens: int | None, inputs: dict[str, str],
               task_type: str = "classification") -> FailureModes:
    keys = list(MODES_BY_TASK.get(task_type, MODES_BY_TASK["classification"]))
    modes = FailureModes(variant=variant, n_items=len(rows), counts={mode: 0 for mode in keys},
                         examples={mode: [] for mode in keys})
    pairs: Counter = Counter()
    problems: Counter = Counter()
    for row in rows:
        mode = failure_mode(row, max_new_tokens, task_type)
        if mode is None:
            continue
        modes.counts[mode] += 1
        if len(modes.examples[mode]) < EXAMPLES_PER_MODE:
            modes.examples[mode].append(example_of(row, inputs, task_type))
        # Confusions are pairs of labels; an extraction's record or a generation's text is no label.
        if mode == "wrong_label" and task_type == "classification" and isinstance(row["gold"], str) \
                and isinstance(row["parsed"], str):
            pairs[(row["gold"], row["parsed"])] += 1
        problems.update(problems_of(row))
    # Ties broken by name, so the report does not change between identical runs.
    modes.confused_pairs = [(g, p, c) for (g, p), c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))][:5]
    modes.top_problems = sorted(problems.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PROBLEMS]
    return modes


def problems_of(row: dict) -> list[str]:
    """The parts of one output that went wrong: an extraction's wrong fields, a generation's broken constraints."""
    return list(row.get("wrong_fields") or []) + [name for name, ok in (row.get("constraints") or {}).items() if not ok]


def example_of(row: dict, inputs: dict[str, str], task_type: str = "classification") -> Example:
    text = inputs.get(row["item_id"])
    return Example(item_id=row["item_id"], gold=shown(row.get("gold")), parsed=shown(row.get("parsed")),
                   output=visible(row.get("raw_output") or ""), input=clip(text) if text is not None else None,
                   reading=reading_of(row, task_type))


def reading_of(row: dict, task_type: str = "classification") -> str:
    """What the task made of an output, in words: the label, the record and its wrong fields, the scores."""
    if task_type == "generation":
        broken = [name for name, ok in (row.get("constraints") or {}).items() if not ok]
        scores = " · ".join(f"{name} {row[key]:.2f}" for name, key in (("ROUGE-L", "rouge_l"), ("chrF", "chrf"))
                            if isinstance(row.get(key), (int, float)))
        verdict = f"broken: {', '.join(broken)}" if broken else "every constraint met"
        return f"{scores} · {verdict}" if scores else verdict
    if task_type == "extraction":
        if row.get("parsed") is None:
            return "no JSON object"
        form = ("fits the schema" if row.get("format_ok") else "a JSON object, but not one that fits the schema"
                if row.get("parse_ok") else "a JSON object inside other text")
        wrong = row.get("wrong_fields") or []
        return f"{form} · " + (f"wrong: {', '.join(wrong)}" if wrong else "every field right")
    return row["parsed"] if row.get("parsed") is not None else "no valid label"


def shown(value) -> str | None:
    """A label or a text as it is, an extracted record as compact JSON; clipped like any text."""
    if value is None:
        return None
    return clip(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))


def visible(output: str) -> str:
    """Outputs of pure whitespace are shown as a Python literal, so the reader sees what came back."""
    return clip(output) if output.strip() else repr(output)


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
