"""Resampling items: the bootstrap and the paired permutation, drawn one way for all of bench.

A metric written as per-item additive parts and a ``combine`` (stats/additive.py)
is resampled without a loop over items: a bootstrap resample is a row of item
counts (weights), a permutation a row of swap flags, and either reaches the
summed parts by one matrix product. ``resample_indices`` gives the same
resamples as item indices, for a statistic that is not written as parts; for a
given seed both forms draw the same items.

Counts and generators come from stats/policy.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.stats import policy
from harness.stats.additive import Combine


def resample_indices(n: int, *, seed: int, resamples: int | None = None) -> np.ndarray:
    """(resamples, n) item indices drawn with replacement: row r is bootstrap resample r."""
    count = policy.resample_count(resamples)
    dtype = np.int32 if count * n < 2**31 else np.int64
    return policy.generator(seed).integers(0, n, size=(count, n), dtype=dtype)


def resample_weights(n: int, *, seed: int, resamples: int | None = None) -> np.ndarray:
    """(resamples, n) counts: how often each item is drawn in each bootstrap resample."""
    draws = resample_indices(n, seed=seed, resamples=resamples)
    draws += (np.arange(len(draws), dtype=draws.dtype) * n)[:, None]  # row r counts into its own block of n
    return np.bincount(draws.ravel(), minlength=draws.size).reshape(draws.shape).astype(float)


def swap_masks(n: int, *, seed: int, resamples: int | None = None) -> np.ndarray:
    """(resamples, n) 0/1 flags: which items trade sides in each random swap of a paired comparison."""
    return policy.generator(seed).integers(0, 2, size=(policy.resample_count(resamples), n)).astype(float)


def on_all_items(parts: np.ndarray, combine: Combine) -> float:
    """The metric itself: ``combine`` of the parts summed over every item once."""
    return float(combine(parts.sum(0, keepdims=True))[0])


def draws(parts: np.ndarray, combine: Combine, *, seed: int, resamples: int | None = None) -> np.ndarray:
    """The metric on each bootstrap resample of the items."""
    return combine(resample_weights(len(parts), seed=seed, resamples=resamples) @ parts)


def paired_draws(
    first: np.ndarray, second: np.ndarray, combine: Combine, *, seed: int, resamples: int | None = None
) -> np.ndarray:
    """metric(second) - metric(first) on each bootstrap resample, the same items for both sides.

    Pairing is what makes the interval tight: an item's difficulty weighs on
    both sides of every resample, so it cancels from the difference.
    """
    if len(first) != len(second):
        raise ValueError(f"paired parts differ in items: {len(first)} vs {len(second)}")
    weights = resample_weights(len(first), seed=seed, resamples=resamples)
    return combine(weights @ second) - combine(weights @ first)


def percentile_interval(values: Sequence[float] | np.ndarray, tail: float) -> tuple[float, float]:
    """The ``tail`` and ``1 - tail`` quantiles of resampled values (linear interpolation)."""
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)
