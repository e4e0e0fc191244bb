"""Paired comparisons of two variants on the same test items (joined on item_id).

Two numbers tell a stakeholder whether B is really better than A:
- which items B fixed (A wrong, B right) and which it broke (A right, B wrong),
  with the exact McNemar test on those discordant items;
- the macro-F1 difference with a paired bootstrap interval: both variants are
  rescored on the *same* resampled items, which is far tighter than comparing
  two separate intervals, because item difficulty cancels out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.stats import binomtest

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 0  # fixed: the same run folder gives the same report


@dataclass
class PairedComparison:
    """B against A on the items both answered."""

    a: str
    b: str
    n_items: int
    fixed: list[str] = field(default_factory=list)  # item_ids A got wrong and B right
    broke: list[str] = field(default_factory=list)  # item_ids A got right and B wrong
    mcnemar_p: float | None = None
    f1_delta: float | None = None  # macro-F1(B) - macro-F1(A)
    f1_delta_low: float | None = None
    f1_delta_high: float | None = None

    @property
    def verdict(self) -> str:
        """better / worse / inconclusive: does the macro-F1 interval exclude zero?"""
        if self.f1_delta_low is None or self.f1_delta_high is None:
            return "inconclusive"
        if self.f1_delta_low > 0:
            return "better"
        if self.f1_delta_high < 0:
            return "worse"
        return "inconclusive"


def compare(a_name: str, a_rows: dict[str, dict], b_name: str, b_rows: dict[str, dict], labels: Sequence[str]) -> PairedComparison:
    common = sorted(set(a_rows) & set(b_rows))
    result = PairedComparison(a=a_name, b=b_name, n_items=len(common))
    if not common:
        return result
    result.fixed = [i for i in common if not a_rows[i]["correct"] and b_rows[i]["correct"]]
    result.broke = [i for i in common if a_rows[i]["correct"] and not b_rows[i]["correct"]]
    discordant = len(result.fixed) + len(result.broke)
    result.mcnemar_p = float(binomtest(len(result.fixed), discordant, 0.5).pvalue) if discordant else 1.0
    gold = [a_rows[i]["gold"] for i in common]
    delta, low, high = paired_macro_f1_delta(gold, [a_rows[i]["parsed"] for i in common], [b_rows[i]["parsed"] for i in common], labels)
    result.f1_delta, result.f1_delta_low, result.f1_delta_high = delta, low, high
    return result


def paired_macro_f1_delta(gold: Sequence[str], pred_a: Sequence[str | None], pred_b: Sequence[str | None],
                          labels: Sequence[str]) -> tuple[float, float, float]:
    """macro-F1(B) - macro-F1(A) and its paired percentile-bootstrap interval."""
    n = len(gold)
    rng = np.random.default_rng(SEED)
    observed = np.ones((1, n))
    delta = float((_macro_f1(observed, gold, pred_b, labels) - _macro_f1(observed, gold, pred_a, labels))[0])
    diffs = []
    chunk = max(1, 2_000_000 // n)  # bound memory: a chunk of resamples is a (chunk, n) matrix
    for start in range(0, RESAMPLES, chunk):
        # Each resample is a vector of item counts; the same counts weight both variants.
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=min(chunk, RESAMPLES - start)).astype(float)
        diffs.append(_macro_f1(weights, gold, pred_b, labels) - _macro_f1(weights, gold, pred_a, labels))
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(np.concatenate(diffs), [tail, 100 - tail])
    return delta, float(low), float(high)


def _macro_f1(weights: np.ndarray, gold: Sequence[str], pred: Sequence[str | None], labels: Sequence[str]) -> np.ndarray:
    """Macro-F1 under each row of item weights; matches sklearn's f1_score(average="macro", zero_division=0)."""
    g = np.asarray(gold, dtype=object)[:, None] == np.asarray(labels, dtype=object)[None, :]
    p = np.asarray(pred, dtype=object)[:, None] == np.asarray(labels, dtype=object)[None, :]
    tp = weights @ (g & p)
    fp = weights @ (~g & p)
    fn = weights @ (g & ~p)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(denom), where=denom > 0)
    return f1.mean(axis=1)
