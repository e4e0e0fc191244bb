"""Metrics written as per-item additive parts, so that resampling items is one matrix product.

A metric that does not decompose into a number per item (macro-F1) is written
as an items x m matrix of parts and a ``combine`` that turns summed parts into
the metric: ``combine(parts.sum(0, keepdims=True))[0]`` is the metric on all
items, and ``combine(weights @ parts)`` its value on each row of item weights
(a bootstrap resample, a permutation's swapped sums). Field F1 is written the
same way in harness/tasks/metrics.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Combine = Callable[[np.ndarray], np.ndarray]


def mean_parts(values: Sequence[float]) -> np.ndarray:
    """Per item: [value, 1]; summed, the total and the count a mean needs."""
    values = np.asarray(values, dtype=float)
    return np.column_stack([values, np.ones(len(values))])


def mean_from_sums(sums: np.ndarray) -> np.ndarray:
    """The mean per row of summed ``mean_parts``."""
    return sums[:, 0] / sums[:, 1]


def macro_f1_parts(gold: Sequence[str | None], predicted: Sequence[str | None], labels: Sequence[str]) -> np.ndarray:
    """Per item and label: [true positive, gold + predicted] indicators, shape (n, 2k).

    Summed over items these are tp and 2tp + fp + fn per label, all macro-F1 needs.
    A prediction outside ``labels`` (unreadable) is a miss for its gold label and
    a false positive for none, as in sklearn with ``labels=labels``.
    """
    index = {label: k for k, label in enumerate(labels)}
    gold_hot = np.zeros((len(gold), len(labels)))
    pred_hot = np.zeros((len(gold), len(labels)))
    for i, (g, p) in enumerate(zip(gold, predicted)):
        if g in index:
            gold_hot[i, index[g]] = 1
        if p in index:
            pred_hot[i, index[p]] = 1
    return np.hstack([gold_hot * pred_hot, gold_hot + pred_hot])


def macro_f1_from_sums(sums: np.ndarray) -> np.ndarray:
    """Macro-F1 per row of summed ``macro_f1_parts``: the mean F1 over the labels present in that row.

    A label is present when some item has it as gold or as prediction (sklearn's
    ``f1_score(average="macro")`` without ``labels=``). A bootstrap resample that
    misses a rare label must not score it F1 0: perfect predictions on 100 items
    with ten one-item labels would get resamples far below 1.0 and an interval
    that excludes the estimate. A row with no label present at all is NaN, which
    the gate refuses rather than pass (an empty label set is a configuration error).
    """
    k = sums.shape[1] // 2
    true_pos, denominator = sums[:, :k], sums[:, k:]
    present = denominator > 0
    f1 = np.divide(2 * true_pos, denominator, out=np.zeros_like(true_pos), where=present)
    counted = present.sum(axis=1)
    return np.divide(f1.sum(axis=1), counted, out=np.full(len(sums), np.nan), where=counted > 0)


def macro_f1_weighted(
    gold: Sequence[str | None], predicted: Sequence[str | None], labels: Sequence[str], weights: np.ndarray
) -> np.ndarray:
    """Macro-F1 for each row of item weights (sklearn's ``average="macro"`` over the labels present)."""
    return macro_f1_from_sums(weights @ macro_f1_parts(gold, predicted, labels))
