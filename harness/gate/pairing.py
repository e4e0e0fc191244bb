"""Pair baseline and run items: same item id AND same content hash, nothing else.

An item whose id survived but whose text changed is not the same question any
more; comparing it would mix a data change into a model change. Such items,
and items only one side has, are counted and reported, never compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.stats import additive
from harness.tasks import metrics


@dataclass(frozen=True)
class ItemOutcomes:
    """One side's per-item results, in a fixed item order."""

    gold: list
    parsed: list
    correct: np.ndarray  # bool
    format_ok: np.ndarray  # bool
    rows: list[dict] = field(default_factory=list)  # the rows themselves: the task's own fields (field counts, scores)

    @classmethod
    def from_rows(cls, rows: list[dict]) -> "ItemOutcomes":
        return cls(
            gold=[r.get("gold") for r in rows],
            parsed=[r.get("parsed") for r in rows],
            correct=np.array([bool(r.get("correct")) for r in rows], dtype=bool),
            format_ok=np.array([bool(r.get("format_ok")) for r in rows], dtype=bool),
            rows=list(rows),
        )

    @property
    def n(self) -> int:
        return len(self.gold)

    def outcome(self, metric: str) -> np.ndarray:
        """Per-item yes/no for a metric that is a share of items."""
        if metric == "accuracy":
            return self.correct
        if metric == "format_compliance":
            return self.format_ok
        return metrics.outcome(metric, self.rows)

    def parts(self, metric: str, labels: list[str]) -> tuple[np.ndarray, additive.Combine]:
        """Per-item parts of a resampled metric and how to combine their sums (harness.tasks.metrics)."""
        if metric == "macro_f1":
            return additive.macro_f1_parts(self.gold, self.parsed, labels), additive.macro_f1_from_sums
        return metrics.parts(metric, self.rows, labels)


@dataclass(frozen=True)
class Pairing:
    baseline: ItemOutcomes  # shared items only, in the same order as ``run``
    run: ItemOutcomes
    baseline_items: int  # all items in the baseline
    run_items: int  # all items in the run
    changed: list[str] = field(default_factory=list)  # ids on both sides whose content differs
    only_baseline: list[str] = field(default_factory=list)  # ids the run lacks
    only_run: list[str] = field(default_factory=list)  # ids the baseline lacks

    @property
    def shared(self) -> int:
        return self.run.n

    @property
    def complete(self) -> bool:
        """Every item on each side found its partner."""
        return not (self.changed or self.only_baseline or self.only_run)


def pair_items(baseline_rows: list[dict], run_rows: list[dict]) -> Pairing:
    """Match on (item_id, item_hash); the run's order is kept."""
    base_by_id = {str(row["item_id"]): row for row in baseline_rows}
    run_ids = {str(row["item_id"]) for row in run_rows}
    shared_base, shared_run, changed, only_run = [], [], [], []
    for row in run_rows:
        item_id = str(row["item_id"])
        partner = base_by_id.get(item_id)
        if partner is None:
            only_run.append(item_id)
        elif partner.get("item_hash") != row.get("item_hash"):
            changed.append(item_id)
        else:
            shared_base.append(partner)
            shared_run.append(row)
    only_baseline = [item_id for item_id in base_by_id if item_id not in run_ids]
    return Pairing(
        baseline=ItemOutcomes.from_rows(shared_base),
        run=ItemOutcomes.from_rows(shared_run),
        baseline_items=len(baseline_rows),
        run_items=len(run_rows),
        changed=changed,
        only_baseline=only_baseline,
        only_run=only_run,
    )
