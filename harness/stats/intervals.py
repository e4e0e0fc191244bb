"""Intervals at bench's one confidence level (95%, stats/policy.py): for a metric, and for a paired difference.

One metric (results.json): Wilson for a share of items, sound at 0% and 100%
where the normal interval is not; a percentile bootstrap over items for
everything else (macro-F1, field F1, mean ROUGE-L and chrF).

A paired difference of two models on the same items (the report's variant
against variant, the probes' variant against base): a paired percentile
bootstrap, both sides scored on the same resampled items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from harness.stats import policy, resampling
from harness.stats.additive import Combine, mean_from_sums, mean_parts


def _empty(method: str) -> dict:
    return {"value": None, "ci_low": None, "ci_high": None, "n": 0, "method": method}


def _percentile(value: float, draws: np.ndarray, n: int) -> dict:
    low, high = resampling.percentile_interval(draws, policy.two_sided_tail())
    return {
        "value": float(value),
        "ci_low": low,
        "ci_high": high,
        "n": n,
        "method": f"bootstrap-percentile-{len(draws)}",
    }


def proportion(successes: int, total: int) -> dict:
    """A share with its Wilson interval (sound at 0% and 100%, unlike the normal one)."""
    if total == 0:
        return _empty("wilson")
    low, high = proportion_confint(successes, total, alpha=1 - policy.CONFIDENCE, method="wilson")
    return {"value": successes / total, "ci_low": float(low), "ci_high": float(high), "n": total, "method": "wilson"}


def bootstrap(statistic: Callable[[np.ndarray], float], n_items: int, *, seed: int) -> dict:
    """Percentile bootstrap over items: ``statistic`` takes an index array into the items.

    One call of ``statistic`` per resample; a metric written as additive parts
    is faster through ``resampled``, which draws the same items for the same seed.
    """
    if n_items == 0:
        return _empty("bootstrap")
    rows = resampling.resample_indices(n_items, seed=seed)
    draws = np.array([statistic(row) for row in rows], dtype=float)
    return _percentile(statistic(np.arange(n_items)), draws, n_items)


def resampled(parts: np.ndarray, combine: Combine, *, seed: int) -> dict:
    """Percentile bootstrap of a metric written as per-item additive parts (stats/additive.py)."""
    if len(parts) == 0:
        return _empty("bootstrap")
    draws = resampling.draws(parts, combine, seed=seed)
    return _percentile(resampling.on_all_items(parts, combine), draws, len(parts))


def mean(values: Sequence[float], *, seed: int) -> dict:
    """The mean of a per-item score (ROUGE-L, chrF) with its percentile bootstrap interval."""
    array = np.asarray(values, dtype=float)
    if len(array) == 0:
        return _empty("bootstrap")
    draws = resampling.draws(mean_parts(array), mean_from_sums, seed=seed)
    return _percentile(array.mean(), draws, len(array))


def paired_delta(first: np.ndarray, second: np.ndarray, combine: Combine, *, seed: int) -> tuple[float, float, float]:
    """(delta, low, high): metric(second) - metric(first) on the same items, with its paired percentile interval.

    ``first`` and ``second`` are the two sides' per-item parts (stats/additive.py), row i the same item.
    """
    if len(first) == 0:
        raise ValueError("no paired items to compare")
    delta = resampling.on_all_items(second, combine) - resampling.on_all_items(first, combine)
    low, high = resampling.percentile_interval(
        resampling.paired_draws(first, second, combine, seed=seed), policy.two_sided_tail()
    )
    return delta, low, high


def paired_mean_delta(first: Sequence[float], second: Sequence[float], *, seed: int) -> tuple[float, float, float]:
    """(delta, low, high) for mean(second) - mean(first) of per-item scores on the same items."""
    if len(first) != len(second):
        raise ValueError(f"paired scores differ in length: {len(first)} vs {len(second)}")
    return paired_delta(mean_parts(first), mean_parts(second), mean_from_sums, seed=seed)
