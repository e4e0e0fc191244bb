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
format compliance. Each task type names the modes in its own words, says what
makes an output unreadable, what went wrong in it and how to read it
(``FailureMode`` and the hooks of ``TaskType`` in harness/tasks).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from harness.tasks import FailureMode, task_type

EXAMPLES_PER_MODE = 3
TOP_PROBLEMS = 5
TEXT_LIMIT = 280  # characters of input or output shown per example

Mode = FailureMode  # the name the report's templates and tests use


def modes_for(task_type_name: str | None, *, max_new_tokens: int | None = None, **values) -> dict[str, Mode]:
    """The task type's modes, in checking order, with the run's limits written into their help.

    ``values``: the task's own placeholders (generation: ``min_rouge_l``); None shows the type's default words.
    """
    kind = task_type(task_type_name)
    filled = {
        **kind.failure_values,
        **{k: v for k, v in values.items() if v is not None},
        "max_new_tokens": max_new_tokens or "the",
    }
    return {key: Mode(mode.title, mode.help.format(**filled)) for key, mode in kind.failure_modes.items()}


def problems_title(task_type_name: str | None) -> str:
    """The heading of the failure table's last column: confusions, wrong fields, broken constraints."""
    return task_type(task_type_name).problems_title


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


def failure_mode(row: dict, max_new_tokens: int | None, task_type_name: str | None = "classification") -> str | None:
    text = row.get("raw_output") or ""
    if row.get("correct") and row.get("format_ok"):
        return None
    if not text.strip():
        return "empty"
    if max_new_tokens and (row.get("output_tokens") or 0) >= max_new_tokens and not row.get("format_ok"):
        return "overlong"
    if task_type(task_type_name).unreadable(row):
        return "invalid"
    if not row.get("correct"):
        return "wrong_label"
    return "format_only"


def categorise(
    variant: str,
    rows: list[dict],
    max_new_tokens: int | None,
    inputs: dict[str, str],
    task_type_name: str | None = "classification",
) -> FailureModes:
    kind = task_type(task_type_name)
    keys = list(kind.failure_modes)
    modes = FailureModes(
        variant=variant, n_items=len(rows), counts={mode: 0 for mode in keys}, examples={mode: [] for mode in keys}
    )
    pairs: Counter = Counter()
    problems: Counter = Counter()
    for row in rows:
        mode = failure_mode(row, max_new_tokens, task_type_name)
        if mode is None:
            continue
        modes.counts[mode] += 1
        if len(modes.examples[mode]) < EXAMPLES_PER_MODE:
            modes.examples[mode].append(example_of(row, inputs, task_type_name))
        # Confusions are pairs of labels; an extraction's record or a generation's text is no label.
        pair = kind.confusion(row) if mode == "wrong_label" else None
        if pair is not None:
            pairs[pair] += 1
        problems.update(kind.problems(row))
    # Ties broken by name, so the report does not change between identical runs.
    modes.confused_pairs = [(g, p, c) for (g, p), c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))][:5]
    modes.top_problems = sorted(problems.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PROBLEMS]
    return modes


def example_of(row: dict, inputs: dict[str, str], task_type_name: str | None = "classification") -> Example:
    text = inputs.get(row["item_id"])
    return Example(
        item_id=row["item_id"],
        gold=shown(row.get("gold")),
        parsed=shown(row.get("parsed")),
        output=visible(row.get("raw_output") or ""),
        input=clip(text) if text is not None else None,
        reading=reading_of(row, task_type_name),
    )


def reading_of(row: dict, task_type_name: str | None = "classification") -> str:
    """What the task made of an output, in words: the label, the record and its wrong fields, the scores."""
    return task_type(task_type_name).reading(row)


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
