"""Paired comparisons of two variants on the same test items (joined on item_id).

Two numbers tell a stakeholder whether B is really better than A:
- which items B fixed (A wrong, B right) and which it broke (A right, B wrong),
  by the per-item ``correct`` flag every task type writes, with the exact
  McNemar test on those discordant items (harness.stats.paired);
- the difference of the task's headline metric (macro-F1, field F1, pass rate)
  and of any per-item score it writes (ROUGE-L, chrF), each with a paired
  interval: for a yes/no metric (pass rate, accuracy) the exact McNemar
  interval, which agrees with the McNemar p-value printed beside it; else a paired
  bootstrap interval: both variants are rescored on the *same* resampled
  items, which is far tighter than comparing two separate intervals, because
  item difficulty cancels out (harness.stats.intervals, at the one
  confidence level and resample count of harness.stats.policy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from harness.stats import intervals
from harness.stats.additive import Combine
from harness.stats.paired import mcnemar_exact_interval, mcnemar_two_sided
from harness.stats.policy import CONFIDENCE
from harness.tasks.metrics import is_binary, parts

SEED = 0  # fixed: the same run folder gives the same report


@dataclass(frozen=True)
class Delta:
    """metric(B) - metric(A) and its paired 95% bootstrap interval."""

    value: float
    low: float
    high: float


@dataclass
class PairedComparison:
    """B against A on the items both answered."""

    a: str
    b: str
    n_items: int
    fixed: list[str] = field(default_factory=list)  # item_ids A got wrong and B right
    broke: list[str] = field(default_factory=list)  # item_ids A got right and B wrong
    mcnemar_p: float | None = None
    metric: str = "macro_f1"  # the headline metric, whose delta gives the verdict
    deltas: dict[str, Delta] = field(default_factory=dict)  # metric -> B - A; the headline's first

    @property
    def headline(self) -> Delta | None:
        return self.deltas.get(self.metric)

    @property
    def delta(self) -> float | None:
        return self.headline.value if self.headline else None

    @property
    def delta_low(self) -> float | None:
        return self.headline.low if self.headline else None

    @property
    def delta_high(self) -> float | None:
        return self.headline.high if self.headline else None

    @property
    def verdict(self) -> str:
        """better / worse / inconclusive: does the headline metric's interval exclude zero?"""
        return verdict_of(self.headline)


def verdict_of(delta: Delta | None) -> str:
    if delta is None:
        return "inconclusive"
    if delta.low > 0:
        return "better"
    if delta.high < 0:
        return "worse"
    return "inconclusive"


def compare(
    a_name: str,
    a_rows: dict[str, dict],
    b_name: str,
    b_rows: dict[str, dict],
    labels: Sequence[str],
    metrics: Sequence[str] = ("macro_f1",),
) -> PairedComparison:
    """B against A on their shared items; ``metrics`` get paired deltas, the first gives the verdict."""
    common = sorted(set(a_rows) & set(b_rows))
    result = PairedComparison(a=a_name, b=b_name, n_items=len(common), metric=metrics[0] if metrics else "")
    if not common:
        return result
    result.fixed = [i for i in common if not a_rows[i]["correct"] and b_rows[i]["correct"]]
    result.broke = [i for i in common if a_rows[i]["correct"] and not b_rows[i]["correct"]]
    result.mcnemar_p = mcnemar_two_sided(len(result.fixed), len(result.broke))
    rows_a, rows_b = [a_rows[i] for i in common], [b_rows[i] for i in common]
    for metric in metrics:
        try:
            (parts_a, combine), (parts_b, _) = parts(metric, rows_a, labels), parts(metric, rows_b, labels)
        except (KeyError, TypeError, ValueError):
            continue  # rows without the task's per-item fields (hand-made, or older): no delta, not a crash
        if is_binary(metric):  # a yes/no per item: McNemar's exact interval, the test whose p the report prints
            result.deltas[metric] = binary_delta(parts_a[:, 0], parts_b[:, 0])
        else:
            result.deltas[metric] = paired_delta(parts_a, parts_b, combine)
    return result


def binary_delta(a: np.ndarray, b: np.ndarray) -> Delta:
    """share(B) - share(A) of a yes/no outcome, with the exact McNemar 95% interval (conditional on the
    discordant items): it excludes 0 exactly when the two-sided exact McNemar p is below 0.05, so the
    verdict and the p-value printed beside it never disagree, as a bootstrap's could."""
    lost, gained = int(np.sum((a == 1) & (b == 0))), int(np.sum((a == 0) & (b == 1)))
    low, high = mcnemar_exact_interval(lost, gained, len(a), CONFIDENCE)  # of the drop, A - B
    return Delta(float(b.mean() - a.mean()), -high, -low)


def paired_delta(parts_a: np.ndarray, parts_b: np.ndarray, combine: Combine) -> Delta:
    """metric(B) - metric(A) and its paired percentile-bootstrap interval.

    ``parts_*`` are per-item additive parts and ``combine`` turns their (weighted) sums into the metric
    (harness/tasks/metrics.py), so one resample of items is one row of weights applied to both sides.
    """
    return Delta(*intervals.paired_delta(parts_a, parts_b, combine, seed=SEED))
