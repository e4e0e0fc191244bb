"""The one confidence level and the one resampling policy of every statistic bench reports.

CONFIDENCE is the two-sided level of every interval bench writes for a metric
or a difference: results.json, the report's paired deltas, the probes' deltas
against the base model. The gate's own tests are the one exception by design:
a one-sided test at ``alpha`` shows the two-sided 1 - 2*alpha interval, whose
end is exactly the bound the test uses (docs/gate.md).

RESAMPLES is the number of bootstrap resamples and permutation swap patterns,
everywhere. 4,000, because the gate is the most demanding user: it tests at
alpha 0.01, so a resampled p-value is decided by the ~40 resamples in the 1%
tail (1/4001 is the smallest p-value it can give), and its false-alarm rates in
docs/gate.md and benchmarks/gate_simulation.py were measured with 4,000. A 95%
percentile interval then rests on 100 resamples beyond each end: its ends move
by about 0.04 standard deviations of the bootstrap distribution from one seed
to the next (0.08 at 1,000 resamples), well below the digits bench prints.

Every random draw starts from ``generator(seed)`` with a seed the caller
derives from the suite seed, so the same files give the same figures.
"""

from __future__ import annotations

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 4000


def generator(seed: int) -> np.random.Generator:
    """The random generator for one resampling, from a recorded seed."""
    return np.random.default_rng(seed)


def resample_count(resamples: int | None) -> int:
    """``resamples`` if given (tests use fewer), else the policy's count, read at call time."""
    return RESAMPLES if resamples is None else resamples


def two_sided_tail(confidence: float = CONFIDENCE) -> float:
    """The share left out on each side of a two-sided interval: 0.025 at 95%."""
    return (1 - confidence) / 2
