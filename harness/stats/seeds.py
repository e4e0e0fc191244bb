"""Intervals over training seeds and test items at once: the two-level bootstrap.

A seeded variant trained S times answers the same n test items S times. Its
score is the mean over seeds, and that mean moves for two reasons: another draw
of test items (item variance), and another draw of training runs (seed
variance: a run is better or worse on every item at once). An interval from one
seed's items alone misses the second; bench's A/A simulations (issue 17) show
that it is what makes retrained runs look different when they are not.

One resample here draws S seeds with replacement from the S trained, and n
items with replacement from the n scored; the metric is computed on the drawn
items for each drawn seed and averaged over the drawn seeds. The items are
drawn once per resample for every seed, since every seed answered the same
items (the design is crossed, not nested): an item that is hard is hard for all
seeds, and drawing items separately per seed would average its weight away and
understate the item variance. The crossed resample counts the seed-by-item
interaction twice, so the interval errs on the wide side (Owen 2007, "The
pigeonhole bootstrap", Ann. Appl. Stat. 1(2)); with one seed it is exactly the
item bootstrap of ``intervals.resampled``.

Metrics come as per-item additive parts and a ``combine`` (stats/additive.py),
so one resample is one matrix product per seed; counts, generators and the
confidence level come from stats/policy.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.stats import intervals, policy, resampling
from harness.stats.additive import Combine


def sample_sd(per_seed: Sequence[float]) -> float | None:
    """The between-seed standard deviation (n - 1 in the denominator); None with one seed, which has no spread."""
    return float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else None


def _checked(seed_parts: Sequence[np.ndarray]) -> int:
    if not seed_parts:
        raise ValueError("no seeds to combine")
    n = len(seed_parts[0])
    if any(len(parts) != n for parts in seed_parts):
        raise ValueError(f"seeds differ in items: {[len(parts) for parts in seed_parts]}")
    return n


def _seed_draws(n_seeds: int, *, seed: int, resamples: int | None) -> np.ndarray:
    """(resamples, n_seeds) indices of the seeds each resample draws; apart from the items' generator."""
    count = policy.resample_count(resamples)
    return policy.generator(seed + 1).integers(0, n_seeds, size=(count, n_seeds))


def _per_seed_draws(seed_parts: Sequence[np.ndarray], weights: np.ndarray, combine: Combine) -> np.ndarray:
    """(n_seeds, resamples): the metric of each seed on each resample of the items."""
    return np.stack([combine(weights @ parts) for parts in seed_parts])


def _mean_over_drawn_seeds(values: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """values (n_seeds, resamples), drawn (resamples, k) -> the mean over each resample's drawn seeds."""
    return values[drawn.T, np.arange(values.shape[1])].mean(axis=0)


def two_level_draws(
    seed_parts: Sequence[np.ndarray], combine: Combine, *, seed: int, resamples: int | None = None
) -> np.ndarray:
    """The seed-mean of the metric on each two-level resample (seeds, then the same items for every seed)."""
    n = _checked(seed_parts)
    weights = resampling.resample_weights(n, seed=seed, resamples=resamples)
    values = _per_seed_draws(seed_parts, weights, combine)
    return _mean_over_drawn_seeds(values, _seed_draws(len(seed_parts), seed=seed, resamples=resamples))


def over_seeds(seed_parts: Sequence[np.ndarray], combine: Combine, *, seed: int, resamples: int | None = None) -> dict:
    """A [0, 1] metric of a variant trained once per entry of ``seed_parts`` (each items x m parts, the same items).

    ``value`` is the mean over seeds, ``per_seed`` each seed's own value, ``sd_between_seeds`` their sample
    standard deviation (None with one seed), and the interval the effective-n Wilson one (intervals.py) at
    the two-level bootstrap's variance, so it covers item and seed variance and keeps its width at 0% or 100%.
    """
    n = _checked(seed_parts)
    per_seed = [resampling.on_all_items(parts, combine) for parts in seed_parts]
    value = float(np.mean(per_seed))
    draws = two_level_draws(seed_parts, combine, seed=seed, resamples=resamples)
    interval = intervals.wilson_effective_n(
        value, float(np.var(draws)), n, f"wilson-effective-n-two-level-bootstrap-{len(draws)}"
    )
    return {
        **interval,
        "seeds": len(seed_parts),
        "per_seed": per_seed,
        "sd_between_seeds": sample_sd(per_seed),
    }


def paired_over_seeds(
    first: Sequence[np.ndarray],
    second: Sequence[np.ndarray],
    combine: Combine,
    *,
    seed: int,
    resamples: int | None = None,
) -> tuple[float, float, float]:
    """(delta, low, high): seed-mean(second) - seed-mean(first) on the same items, every seed of both sides used.

    Items are paired (one draw of items for both sides and all their seeds, so item difficulty cancels);
    seeds are not (each side's training runs are its own), so each side draws its seeds apart. A side
    trained once is a side with one seed: its seed draw is always that seed.
    """
    n = _checked(first)
    if _checked(second) != n:
        raise ValueError(f"paired parts differ in items: {n} vs {len(second[0])}")
    delta = float(
        np.mean([resampling.on_all_items(p, combine) for p in second])
        - np.mean([resampling.on_all_items(p, combine) for p in first])
    )
    weights = resampling.resample_weights(n, seed=seed, resamples=resamples)
    side_a = _mean_over_drawn_seeds(
        _per_seed_draws(first, weights, combine), _seed_draws(len(first), seed=seed, resamples=resamples)
    )
    side_b = _mean_over_drawn_seeds(
        _per_seed_draws(second, weights, combine), _seed_draws(len(second), seed=seed + 2, resamples=resamples)
    )
    low, high = resampling.percentile_interval(side_b - side_a, policy.two_sided_tail())
    return delta, low, high
