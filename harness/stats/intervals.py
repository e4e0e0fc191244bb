"""Intervals at bench's one confidence level (95%, stats/policy.py): for a metric, and for a paired difference.

One metric (results.json), always a score in [0, 1]:
  * a share of items (accuracy, pass rate, format compliance): Wilson, sound at
    0% and 100% where the normal interval is not;
  * anything else averaged over items (macro-F1, field F1, mean ROUGE-L and
    chrF): Wilson at the metric's effective sample size (``wilson_effective_n``).
    A percentile bootstrap alone collapses to zero width at a perfect (or a zero)
    score: every resample of 50 perfect items is perfect again, and the report
    would claim "1.000 (1.000-1.000)". The effective-n Wilson interval keeps the
    bootstrap's (or the plug-in) variance where it has one and keeps the width a
    share of n items would have where it has none.

A paired difference of two models on the same items (the report's variant
against variant, the probes' variant against base): a paired percentile
bootstrap, both sides scored on the same resampled items.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from harness.stats import policy, resampling
from harness.stats.additive import Combine, mean_from_sums, mean_parts


def _empty(method: str) -> dict:
    return {"value": None, "ci_low": None, "ci_high": None, "n": 0, "method": method}


def wilson_effective_n(value: float, variance: float, n: int, method: str) -> dict:
    """A [0, 1] metric's Wilson interval at its effective sample size n* = value (1 - value) / variance.

    The "modified Wilson" interval of survey statistics: Korn and Graubard
    (1998, Survey Methodology 24(2), 193-201) put n* in place of n for an
    estimate whose variance is not the binomial one, with n* = n when the
    estimate is 0 or 1 (its variance is then 0 and says nothing); SAS PROC
    SURVEYFREQ's CL(TYPE=WILSON) and Franco et al. (2019, J. Survey Stat. Methodol.
    7(3), 334-364), who found it among the best-covering intervals, do the same.
    For 0/1 per-item scores with the plug-in variance p(1 - p)/n, n* = n and this
    is exactly ``proportion``. n* is not capped at n: a continuous per-item score
    (ROUGE-L) varies less than a 0/1 one with the same mean, so its n* is larger
    and its interval rightly narrower, about the normal one mid-range.
    """
    value = float(value)
    p = min(max(value, 0.0), 1.0)  # float noise at the ends
    spread = p * (1 - p)
    n_eff = n if spread == 0 or not variance > 0 else spread / variance
    low, high = proportion_confint(p * n_eff, n_eff, alpha=1 - policy.CONFIDENCE, method="wilson")
    low, high = float(low), float(high)
    if not math.isfinite(low) or not math.isfinite(high):  # only when n* underflows: no information at all
        low, high = 0.0, 1.0
    return {"value": value, "ci_low": min(low, p), "ci_high": max(high, p), "n": n, "method": method}


def _from_draws(value: float, draws: np.ndarray, n: int) -> dict:
    """Effective-n Wilson with the bootstrap variance of ``draws`` (the metric on each resample of the items)."""
    return wilson_effective_n(value, float(np.var(draws)), n, f"wilson-effective-n-bootstrap-{len(draws)}")


def proportion(successes: int, total: int) -> dict:
    """A share with its Wilson interval (sound at 0% and 100%, unlike the normal one)."""
    if total == 0:
        return _empty("wilson")
    low, high = proportion_confint(successes, total, alpha=1 - policy.CONFIDENCE, method="wilson")
    return {"value": successes / total, "ci_low": float(low), "ci_high": float(high), "n": total, "method": "wilson"}


def bootstrap(statistic: Callable[[np.ndarray], float], n_items: int, *, seed: int) -> dict:
    """A [0, 1] metric's effective-n Wilson interval, its variance bootstrapped over items.

    ``statistic`` takes an index array into the items.

    One call of ``statistic`` per resample; a metric written as additive parts
    is faster through ``resampled``, which draws the same items for the same seed.
    """
    if n_items == 0:
        return _empty("wilson-effective-n-bootstrap")
    rows = resampling.resample_indices(n_items, seed=seed)
    draws = np.array([statistic(row) for row in rows], dtype=float)
    return _from_draws(statistic(np.arange(n_items)), draws, n_items)


def resampled(parts: np.ndarray, combine: Combine, *, seed: int) -> dict:
    """Effective-n Wilson interval of a [0, 1] metric written as per-item additive parts (stats/additive.py)."""
    if len(parts) == 0:
        return _empty("wilson-effective-n-bootstrap")
    draws = resampling.draws(parts, combine, seed=seed)
    return _from_draws(resampling.on_all_items(parts, combine), draws, len(parts))


def mean(values: Sequence[float]) -> dict:
    """The mean of a per-item score in [0, 1] (ROUGE-L, chrF) with its effective-n Wilson interval.

    The variance is the plug-in s^2 / n (what the bootstrap estimates, without
    its noise), so 0/1 scores get exactly the Wilson interval of their share.
    """
    array = np.asarray(values, dtype=float)
    if len(array) == 0:
        return _empty("wilson-effective-n")
    return wilson_effective_n(array.mean(), float(array.var()) / len(array), len(array), "wilson-effective-n")


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


def is_zero_one(*sides: Sequence[float]) -> bool:
    """Every per-item score on every side is 0 or 1 (a probe's accuracy, not a log-likelihood or a ROUGE-L)."""
    return all(bool(np.isin(np.asarray(side, dtype=float), (0.0, 1.0)).all()) for side in sides)


def paired_mean_delta(first: Sequence[float], second: Sequence[float], *, seed: int) -> tuple[float, float, float]:
    """(delta, low, high) for mean(second) - mean(first) of per-item scores on the same items.

    0/1 scores get the continuity-corrected Tango score interval of a paired
    difference of proportions (the gate's, stats/paired.py): a percentile
    bootstrap of a handful of discordant items is liberal, and called 4 lost /
    0 gained of 100 "worse" where the exact sign test gives p = 0.125. Other
    scores get the paired percentile bootstrap.
    """
    if len(first) != len(second):
        raise ValueError(f"paired scores differ in length: {len(first)} vs {len(second)}")
    if len(first) and is_zero_one(first, second):
        from harness.stats.paired import tango_interval  # paired imports this module's neighbours, not it

        a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
        lost, gained = int(np.sum((a == 1) & (b == 0))), int(np.sum((a == 0) & (b == 1)))
        low, high = tango_interval(lost, gained, len(a), policy.CONFIDENCE, corrected=True)  # of the drop
        return float(b.mean() - a.mean()), -high, -low
    return paired_delta(mean_parts(first), mean_parts(second), mean_from_sums, seed=seed)


def paired_mean_method(first: Sequence[float], second: Sequence[float]) -> str:
    """How ``paired_mean_delta`` makes its interval for these scores, in words."""
    level = f"{policy.CONFIDENCE:.0%}"
    if len(first) and is_zero_one(first, second):
        return f"Tango score interval for paired 0/1 items, continuity corrected, {level}"
    return f"paired bootstrap over items, {policy.resample_count(None)} resamples, {level} percentile interval"
