"""95% intervals for single metrics: Wilson for proportions, bootstrap for the rest."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from statsmodels.stats.proportion import proportion_confint

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 1000


def proportion(successes: int, total: int) -> dict:
    """A share with its Wilson interval (sound at 0% and 100%, unlike the normal one)."""
    if total == 0:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0, "method": "wilson"}
    low, high = proportion_confint(successes, total, alpha=1 - CONFIDENCE, method="wilson")
    return {"value": successes / total, "ci_low": float(low), "ci_high": float(high), "n": total, "method": "wilson"}


def bootstrap(statistic: Callable[[np.ndarray], float], n_items: int, *, seed: int) -> dict:
    """Percentile bootstrap over items: ``statistic`` takes an index array into the items."""
    if n_items == 0:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0, "method": "bootstrap"}
    rng = np.random.default_rng(seed)
    value = statistic(np.arange(n_items))
    draws = [statistic(rng.integers(0, n_items, n_items)) for _ in range(BOOTSTRAP_RESAMPLES)]
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return {"value": float(value), "ci_low": float(low), "ci_high": float(high), "n": n_items,
            "method": f"bootstrap-percentile-{BOOTSTRAP_RESAMPLES}"}


def mean(values: Sequence[float], *, seed: int) -> dict:
    array = np.asarray(values, dtype=float)
    return bootstrap(lambda idx: float(array[idx].mean()), len(array), seed=seed)
