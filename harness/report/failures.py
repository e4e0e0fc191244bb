"""Sort a variant's bad outputs into failure modes a reader can act on.

Every per-item row that is not both correct and well-formed falls into exactly
one mode, checked in this order (the first that applies names the cause):
    empty        nothing but whitespace came back
    overlong     the output ran into max_new_tokens without a well-formed answer
    invalid      no valid label could be read at all
    wrong_label  a label was read, and it is the wrong one
    format_only  the right label, but not in the required format
The first four count against accuracy; ``format_only`` counts only against
format compliance.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MODES = {  # short names for table headers; the report's text explains each
    "empty": "empty",
    "overlong": "overlong",
    "invalid": "invalid format",
    "wrong_label": "wrong label",
    "format_only": "label right, format wrong",
}
EXAMPLES_PER_MODE = 3
TEXT_LIMIT = 280  # characters of input or output shown per example


@dataclass
class Example:
    item_id: str
    gold: str | None
    parsed: str | None
    output: str
    input: str | None


@dataclass
class FailureModes:
    variant: str
    n_items: int
    counts: dict[str, int] = field(default_factory=dict)  # mode -> items, every mode present (0 when none)
    examples: dict[str, list[Example]] = field(default_factory=dict)
    confused_pairs: list[tuple[str, str, int]] = field(default_factory=list)  # (gold, predicted, count), most first

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def failure_mode(row: dict, max_new_tokens: int | None) -> str | None:
    text = row.get("raw_output") or ""
    if row.get("correct") and row.get("format_ok"):
        return None
    if not text.strip():
        return "empty"
    if max_new_tokens and (row.get("output_tokens") or 0) >= max_new_tokens and not row.get("format_ok"):
        return "overlong"
    if row.get("parsed") is None:
        return "invalid"
    if not row.get("correct"):
        return "wrong_label"
    return "format_only"


def categorise(variant: str, rows: list[dict], max_new_tokens: int | None, inputs: dict[str, str]) -> FailureModes:
    modes = FailureModes(variant=variant, n_items=len(rows), counts={mode: 0 for mode in MODES},
                         examples={mode: [] for mode in MODES})
    pairs: Counter = Counter()
    for row in rows:
        mode = failure_mode(row, max_new_tokens)
        if mode is None:
            continue
        modes.counts[mode] += 1
        if len(modes.examples[mode]) < EXAMPLES_PER_MODE:
            modes.examples[mode].append(example_of(row, inputs))
        if mode == "wrong_label":
            pairs[(row["gold"], row["parsed"])] += 1
    # Ties broken by name, so the report does not change between identical runs.
    modes.confused_pairs = [(g, p, c) for (g, p), c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))][:5]
    return modes


def example_of(row: dict, inputs: dict[str, str]) -> Example:
    text = inputs.get(row["item_id"])
    return Example(item_id=row["item_id"], gold=row.get("gold"), parsed=row.get("parsed"),
                   output=visible(row.get("raw_output") or ""), input=clip(text) if text is not None else None)


def visible(output: str) -> str:
    """Outputs of pure whitespace are shown as a Python literal, so the reader sees what came back."""
    return clip(output) if output.strip() else repr(output)


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
