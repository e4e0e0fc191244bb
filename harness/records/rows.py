"""One row of samples.jsonl: one test item as one variant answered it.

The fields every task type writes are declared here, once. A task type's own
per-item fields (extraction: ``parse_ok``, ``field_counts``, ``wrong_fields``;
generation: ``rouge_l``, ``chrf``, ``words``, ``constraints``) sit between
``format_ok`` and ``prompt_tokens``, as the task's ``score`` returned them, and
are read by name (``row["rouge_l"]``), as the task's metric declarations name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from harness.records.base import JsonRecord

# What pairs a row with its counterpart in another run or a baseline, and what a comparison counts.
OUTCOME_FIELDS = ("item_id", "item_hash", "gold", "parsed", "correct", "format_ok")


@dataclass(frozen=True)
class SampleRow(JsonRecord):
    variant: str
    item_id: str
    item_hash: str | None = None  # the item's content: the same id with other content is another item
    prompt_hash: str | None = (
        None  # the exact conversation sent: two variants can be checked to have seen the same prompt
    )
    raw_output: str | None = None
    parsed: Any = None  # the task's reading of the output (a label, a JSON record, a text); None when unreadable
    gold: Any = None
    correct: bool | None = None
    format_ok: bool | None = None  # the whole output is exactly in the answer format
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    latency_s: float | None = None  # the item's share of its batch's time
    # The answer's probability, where the variant gives one (classification: the chosen label's softmax share in
    # rank mode, the generated answer's probability in generate mode, a classifier's predict_proba): calibration.
    confidence: float | None = None

    @classmethod
    def scored(
        cls,
        *,
        variant: str,
        item_id: str,
        item_hash: str,
        prompt_hash: str,
        raw_output: str,
        score: Mapping[str, Any],
        prompt_tokens: int,
        output_tokens: int,
        latency_s: float,
    ) -> SampleRow:
        """The row as the run writes it: the task's ``score`` (parsed, gold, correct, format_ok and its own
        fields, in its order) between what was asked and what it took."""
        return cls.from_json(
            {
                "variant": variant,
                "item_id": item_id,
                "item_hash": item_hash,
                "prompt_hash": prompt_hash,
                "raw_output": raw_output,
                **score,
                "prompt_tokens": prompt_tokens,
                "output_tokens": output_tokens,
                "latency_s": latency_s,
            }
        )

    def outcome(self, task_fields: tuple[str, ...] = ()) -> dict[str, Any]:
        """What comparing this item needs: OUTCOME_FIELDS (None where absent), then those of ``task_fields`` it has."""
        return {
            **{key: self.get(key) for key in OUTCOME_FIELDS},
            **{key: self[key] for key in task_fields if key in self},
        }
