"""Paired one-sided tests for the gate: is the run worse than allowed?

Every comparison here answers one question at the suite's level ``alpha``:

    H0: true drop <= margin      (the run is acceptable)
    H1: true drop >  margin      (a regression beyond what the suite allows)

where drop = baseline metric - run metric, measured on the items both share, so
a positive drop means the run got worse. The p-value is one-sided; the interval
is two-sided at 1 - 2*alpha, so its low end is exactly the one-sided bound the
test uses (alpha 0.01 -> a 98% interval).

Binary per-item outcomes (correct, format ok) use the discordant pairs, and
at each margin one method gives both the p-value and the printed interval, so
the interval excludes the margin exactly when the test rejects:
  * margin 0: the exact McNemar test (n10 ~ Binomial(m, 1/2) given m
    discordant pairs) with its exact conditional interval (Clopper-Pearson on
    the discordant split, scaled by m / n).
  * margin > 0: Tango's score test for a paired difference (Tango 1998, the
    standard non-inferiority test for paired proportions) with a continuity
    correction of one item (half an item moved from the run's losses to its
    gains), and the interval that inverts it. Uncorrected, Tango's test is
    liberal when the run rarely gains items (size 2.0% at alpha 1%, n 300,
    margin 0.02, gain rate 0.25%); corrected, its exact size is at most alpha
    over n 10-1000, margins 0.005-0.2, gain rates 0-30% and alpha 0.001-0.1
    (one cell at 1.006 alpha: n 1000, alpha 0.001, no gains), checked by
    enumeration in tests/test_gate_stats.py and docs/gate.md.
Non-decomposable metrics (macro-F1, field F1) and means of per-item scores
(ROUGE-L, chrF) use the paired permutation test at margin 0 and a paired
bootstrap over items above it (and for the interval); harness/tasks/metrics.py
writes each as per-item parts (stats/additive.py), and the draws come from
stats/resampling.py at the policy's count (stats/policy.py: 4,000).
Probe deltas keep only their 95% interval and are re-tested from it.
The report's fixed-versus-broken count uses the two-sided exact McNemar test.
Why these and not others, and what they buy at n = 300: docs/gate.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.stats import binom, binomtest, norm
from scipy.stats import t as student_t
from statsmodels.stats.proportion import proportion_confint

from harness.stats import policy, resampling
from harness.stats.additive import Combine

EXACT_BELOW = 25  # discordant pairs; below this McNemar is the exact binomial test
POWER = 0.80  # for the minimum detectable drop


@dataclass(frozen=True)
class DropTest:
    """One paired comparison. Values are shares (0.02 = 2 points)."""

    estimate: float  # observed drop, baseline - run (positive: the run is worse)
    ci_low: float
    ci_high: float
    confidence: float  # two-sided level of the interval: 1 - 2 * alpha
    p_value: float  # one-sided, H0: drop <= margin
    method: str
    n: int | None
    discordant: int | None = None  # binary metrics: items where exactly one side is right
    mdd: float | None = None  # minimum detectable drop at alpha and 80% power, for this n and noise


@dataclass(frozen=True)
class FloorTest:
    """The run's value against an absolute floor. H0: true value >= floor."""

    value: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float  # one-sided: small when the true value is below the floor
    method: str
    n: int


# ----------------------------------------------------------------------------- binary outcomes
def discordant_counts(baseline: Sequence[bool], run: Sequence[bool]) -> tuple[int, int]:
    """(n10, n01): baseline right and run wrong, baseline wrong and run right."""
    b = np.asarray(baseline, dtype=bool)
    r = np.asarray(run, dtype=bool)
    if b.shape != r.shape:
        raise ValueError(f"paired outcomes differ in length: {b.size} vs {r.size}")
    return int(np.sum(b & ~r)), int(np.sum(~b & r))


def mcnemar_one_sided(n10: int, n01: int) -> tuple[float, str]:
    """One-sided McNemar p-value for "the run is worse" (margin 0), and the method's name.

    Equals half of statsmodels' two-sided ``mcnemar`` p-value whenever n10 > n01.
    """
    m = n10 + n01
    if m == 0:
        return 1.0, "McNemar (no discordant pairs)"
    if m < EXACT_BELOW:
        # Conditional on m discordant pairs, n10 ~ Binomial(m, 1/2) under H0.
        return float(binomtest(n10, m, 0.5, alternative="greater").pvalue), f"McNemar exact ({m} discordant)"
    excess = n10 - n01
    corrected = math.copysign(max(abs(excess) - 1, 0), excess)  # continuity correction towards 0
    return float(norm.sf(corrected / math.sqrt(m))), f"McNemar chi-square, continuity corrected ({m} discordant)"


def mcnemar_two_sided(n10: int, n01: int) -> float:
    """Two-sided exact McNemar p-value: do the discordant items lean either way? 1.0 when there are none."""
    m = n10 + n01
    return float(binomtest(n10, m, 0.5).pvalue) if m else 1.0


def tango_z(n10: float, n01: float, n: int, margin: float, *, corrected: str | None = None) -> float:
    """Tango's score statistic for H0: p10 - p01 = margin (positive: the run is worse).

    The variance is taken at the restricted maximum-likelihood estimate of p01
    under H0 (the larger root of 2n q^2 + B q + C = 0), which is what keeps the
    test near its nominal level where the Wald test is not. At margin 0 this is
    McNemar's z without continuity correction.

    ``corrected``: "worse" evaluates it with half an item moved from the run's
    losses to its gains (n10 - 1/2, n01 + 1/2), a continuity correction of one
    item on n10 - n01 against "the run is worse"; "better" the mirror image,
    for the other end of the interval. Counts never go below 0.
    """
    b, c = float(n10), float(n01)
    if corrected == "worse":
        b, c = max(b - 0.5, 0.0), c + 0.5
    elif corrected == "better":
        b, c = b + 0.5, max(c - 0.5, 0.0)
    big_b = -b - c + (2 * n - b + c) * margin
    big_c = -c * margin * (1 - margin)
    q = (math.sqrt(max(big_b * big_b - 8 * n * big_c, 0.0)) - big_b) / (4 * n)
    variance = n * (2 * q + margin * (1 - margin))
    numerator = b - c - n * margin
    if variance <= 0:
        return 0.0 if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / math.sqrt(variance)


def tango_interval(n10: int, n01: int, n: int, confidence: float, *, corrected: bool = False) -> tuple[float, float]:
    """Score interval for the paired drop: every margin the two-sided test does not reject.

    ``corrected``: each end inverts the continuity-corrected test of its own side,
    so the low end is above a margin exactly when ``tango_p`` rejects it.
    """
    z = norm.isf((1 - confidence) / 2)
    edge = 1 - 1e-9

    def root(target: float) -> float:
        # tango_z falls as the margin rises, so each end is the single root of a monotone
        # function; when every item went one way there is no root on that side: the end is +-1.
        side = ("worse" if target > 0 else "better") if corrected else None

        def f(d: float) -> float:
            return tango_z(n10, n01, n, d, corrected=side) - target

        if f(-edge) <= 0:
            return -1.0
        if f(edge) >= 0:
            return 1.0
        return brentq(f, -edge, edge, xtol=1e-10)

    return root(z), root(-z)


def tango_p(n10: int, n01: int, n: int, margin: float) -> float:
    """One-sided p-value of Tango's test with a continuity correction, H0: drop <= margin."""
    return float(norm.sf(tango_z(n10, n01, n, margin, corrected="worse")))


def mcnemar_exact_p(n10: int, n01: int) -> float:
    """One-sided exact McNemar p-value for "the run is worse": P(X >= n10), X ~ Binomial(m, 1/2)."""
    m = n10 + n01
    return float(binomtest(n10, m, 0.5, alternative="greater").pvalue) if m else 1.0


def mcnemar_exact_interval(n10: int, n01: int, n: int, confidence: float) -> tuple[float, float]:
    """The drop's exact interval given the m discordant pairs: Clopper-Pearson on n10 / m, times m / n.

    Its low end is above 0 exactly when ``mcnemar_exact_p`` < (1 - confidence) / 2:
    the Clopper-Pearson bound and the exact binomial test are one inversion.
    Conditional on m, so with no discordant pairs it is [0, 0].
    """
    m = n10 + n01
    if m == 0:
        return 0.0, 0.0
    low, high = proportion_confint(n10, m, alpha=1 - confidence, method="beta")
    return m / n * (2 * float(low) - 1), m / n * (2 * float(high) - 1)


def paired_binary_drop(baseline: Sequence[bool], run: Sequence[bool], *, margin: float, alpha: float) -> DropTest:
    """Does the run lose more than ``margin`` of a per-item yes/no outcome (correct, format ok)?"""
    n10, n01 = discordant_counts(baseline, run)
    return binary_drop_from_counts(n10, n01, len(baseline), margin=margin, alpha=alpha)


def binary_drop_from_counts(n10: int, n01: int, n: int, *, margin: float, alpha: float) -> DropTest:
    """``paired_binary_drop`` from its counts: n10 items lost, n01 gained, of n.

    One method per margin gives both the p-value and the interval, so the
    printed interval excludes the margin exactly when the verdict is "fail".
    """
    if n == 0:
        raise ValueError("no paired items to compare")
    confidence = 1 - 2 * alpha
    if margin > 0:
        p_value = tango_p(n10, n01, n, margin)
        low, high = tango_interval(n10, n01, n, confidence, corrected=True)
        method = f"Tango score test, continuity corrected, margin {margin:g}"
    else:
        p_value = mcnemar_exact_p(n10, n01)
        low, high = mcnemar_exact_interval(n10, n01, n, confidence)
        method = f"McNemar exact ({n10 + n01} discordant)"
    return DropTest(
        estimate=(n10 - n01) / n,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_value=p_value,
        method=method,
        n=n,
        discordant=n10 + n01,
        mdd=minimum_detectable_drop(n, (n10 + n01) / n, margin=margin, alpha=alpha),
    )


def minimum_detectable_drop(
    n: int, discordance: float, *, margin: float, alpha: float, power: float = POWER
) -> float | None:
    """Smallest true drop the binary test catches with probability ``power``, or None if none can be.

    Normal approximation to the paired test. The observed drop has variance
    (psi - D^2) / n, where psi is the share of discordant items; the test
    estimates it from the same data, so a true drop D is detected with the
    wanted power when
        D - margin = z_alpha * sqrt((psi - margin^2) / n) + z_power * sqrt((psi - D^2) / n).
    A true drop adds discordant items on top of the noise: psi = discordance + D / 2,
    halfway between the best case (the lost items were already discordant) and
    the worst (every lost item was one both sides got right). Checked against
    benchmarks/gate_simulation.py: within a few tenths of a point at margin 0,
    up to a point cautious (too large) at margin 0.02. With no noise at all the
    exact test still needs k one-way flips where 0.5^k < alpha: a floor of k / n.
    """
    if n <= 0:
        return None
    z_alpha, z_power = norm.isf(alpha), norm.ppf(power)

    def shortfall(drop: float) -> float:
        psi = discordance + drop / 2
        return (
            drop
            - margin
            - z_alpha * math.sqrt(max(psi - margin * margin, 0.0) / n)
            - z_power * math.sqrt(max(psi - drop * drop, 0.0) / n)
        )

    if shortfall(1.0) <= 0:
        return None
    approx = brentq(shortfall, margin, 1.0, xtol=1e-6)
    fewest_flips = math.ceil(math.log(alpha) / math.log(0.5))
    return min(1.0, max(approx, margin + fewest_flips / n))


def binary_floor(successes: int, n: int, *, floor: float, alpha: float) -> FloorTest:
    """Is the run's share (e.g. format compliance) below ``floor`` beyond noise? Exact binomial test."""
    if n == 0:
        raise ValueError("no items to test against the floor")
    p_value = float(binom.cdf(successes, n, floor))  # P(this few successes or fewer | true share = floor)
    confidence = 1 - 2 * alpha
    # Clopper-Pearson: its upper end is below the floor exactly when the exact test rejects.
    low, high = proportion_confint(successes, n, alpha=2 * alpha, method="beta")
    return FloorTest(
        value=successes / n,
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
        p_value=p_value,
        method="exact binomial (Clopper-Pearson interval)",
        n=n,
    )


# ----------------------------------------------------------------------------- resampled metrics (macro-F1, means)
# A non-decomposable metric comes as per-item additive parts (an items x m
# matrix) and a ``combine`` (stats/additive.py); stats/resampling.py draws the
# bootstrap weights and the permutation swap masks.
def paired_permutation_p(
    base_parts: np.ndarray, run_parts: np.ndarray, combine: Combine, *, seed: int, resamples: int | None = None
) -> float:
    """One-sided p-value for "the run is worse" at margin 0: the paired randomization test.

    If baseline and run are interchangeable (the A/A case), swapping the two
    answers of any item leaves the distribution of the drop unchanged; the
    p-value is the share of random swap patterns whose drop is at least the
    observed one. Its level is exact, which the percentile bootstrap's is not
    at small n (it runs slightly above alpha).
    """
    observed = resampling.on_all_items(base_parts, combine) - resampling.on_all_items(run_parts, combine)
    swaps = resampling.swap_masks(len(base_parts), seed=seed, resamples=resamples)
    moved = swaps @ (run_parts - base_parts)  # what each swap pattern moves from the run's side to the baseline's
    drops = combine(base_parts.sum(0) + moved) - combine(run_parts.sum(0) - moved)
    return (1 + int(np.sum(drops >= observed - 1e-12))) / (len(swaps) + 1)


def paired_resampled_drop(
    base_parts: np.ndarray,
    run_parts: np.ndarray,
    combine: Combine,
    *,
    margin: float,
    alpha: float,
    seed: int,
    resamples: int | None = None,
) -> DropTest:
    """Drop of a non-decomposable metric (macro-F1), paired on items.

    Interval: paired percentile bootstrap (resample items, the same ones for
    both sides). p-value at margin 0: the paired permutation test. At a margin
    above 0: the share of bootstrap drops at or below the margin, never
    reported as more significant than the permutation test at margin 0 (the
    same guard the binary test has).
    """
    n = len(base_parts)
    if n == 0:
        raise ValueError("no paired items to compare")
    resamples = policy.resample_count(resamples)
    estimate = resampling.on_all_items(base_parts, combine) - resampling.on_all_items(run_parts, combine)
    drops = resampling.paired_draws(run_parts, base_parts, combine, seed=seed, resamples=resamples)  # base - run
    low, high = resampling.percentile_interval(drops, alpha)
    p_exact = paired_permutation_p(base_parts, run_parts, combine, seed=seed + 1, resamples=resamples)
    method = f"paired permutation test, {resamples} swaps"
    p_value = p_exact
    if margin > 0:
        p_boot = (1 + int(np.sum(drops <= margin + 1e-12))) / (resamples + 1)
        p_value = max(p_boot, p_exact)
        method = f"paired bootstrap, margin {margin:g}, {resamples} resamples" + (
            "; capped by the permutation test" if p_exact > p_boot else ""
        )
    spread = float(np.std(drops))
    mdd = min(1.0, margin + (norm.isf(alpha) + norm.ppf(POWER)) * spread) if spread > 0 else None
    return DropTest(
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        confidence=1 - 2 * alpha,
        p_value=p_value,
        method=method,
        n=n,
        mdd=mdd,
    )


def resampled_floor(
    parts: np.ndarray, combine: Combine, *, floor: float, alpha: float, seed: int, resamples: int | None = None
) -> FloorTest:
    """Is a non-decomposable metric (macro-F1) below ``floor`` beyond noise? Percentile bootstrap."""
    n = len(parts)
    if n == 0:
        raise ValueError("no items to test against the floor")
    value = resampling.on_all_items(parts, combine)
    draws = resampling.draws(parts, combine, seed=seed, resamples=resamples)
    p_value = (1 + int(np.sum(draws >= floor - 1e-12))) / (len(draws) + 1)
    low, high = resampling.percentile_interval(draws, alpha)
    return FloorTest(
        value=value,
        ci_low=low,
        ci_high=high,
        confidence=1 - 2 * alpha,
        p_value=p_value,
        method=f"bootstrap, {len(draws)} resamples",
        n=n,
    )


# ----------------------------------------------------------------------------- several baseline runs
def between_runs_drop(tests: Sequence[DropTest], *, margin: float, alpha: float) -> tuple[DropTest, float]:
    """Combine the run's paired tests against each of K >= 2 baseline runs; returns (test, between-run SD).

    Runs differ as a whole, not only item by item: retraining with another seed
    moves every item's chance at once, and a paired test against one baseline
    run counts that shift as evidence of a regression. With K baseline runs the
    candidate is tested as one more draw from their distribution (a prediction
    test):

      drop D = mean over k of D_k = the baseline runs' mean value minus the run's
      v = the sample variance of the baseline runs' values (K - 1 degrees of
          freedom): item noise and run-level shifts together, whatever their mix;
          never below w, one run's item noise read off the paired tests
          (mean se_k^2 / 2, se_k from each 1 - 2 alpha interval), which a true
          variance cannot be below
      SE^2 = v (1 + 1/K): the candidate and the baseline mean each carry it
      t = (D - margin) / SE against Student's t with K - 1 degrees of freedom.

    Under H0 with normally distributed run values this is exact for any mix of
    item and run variance; the price of estimating a variance from K - 1 degrees
    of freedom is the t quantile (6.96 at alpha 0.01 with K = 3, 3.75 with K = 5,
    2.82 with K = 10), which the minimum detectable drop shows. A normal test
    with the run variance "added" (truncated at 0, Satterthwaite df) was tried
    and is liberal: 8% A/A false alarms at a run SD of 1.5 points with K = 3.
    The returned SD is the between-run SD beyond item noise, sqrt(max(0, s^2 - w)).
    """
    if len(tests) < 2:
        raise ValueError("between-run variance needs at least two baseline runs")
    k = len(tests)
    z = norm.isf(alpha)
    drops = np.array([t.estimate for t in tests], dtype=float)
    item_var = float(np.mean([((t.ci_high - t.ci_low) / (2 * z)) ** 2 for t in tests])) / 2
    spread = float(np.var(drops, ddof=1))  # var of D_k = var of the baseline runs' values
    se = math.sqrt(max(spread, item_var) * (1 + 1 / k))
    df = k - 1
    estimate = float(drops.mean())
    q_alpha, q_power = student_t.isf(alpha, df), student_t.ppf(POWER, df)
    if se > 0:
        p_value = float(student_t.sf((estimate - margin) / se, df))
    else:
        p_value = 0.0 if estimate > margin else 1.0
    run_sd = math.sqrt(max(0.0, spread - item_var))
    return DropTest(
        estimate=estimate,
        ci_low=estimate - q_alpha * se,
        ci_high=estimate + q_alpha * se,
        confidence=1 - 2 * alpha,
        p_value=p_value,
        method=f"prediction t test against {k} baseline runs (their SD {math.sqrt(max(spread, item_var)) * 100:.2f} "
        f"pts, {df} df)",
        n=tests[0].n,
        discordant=tests[0].discordant,
        mdd=min(1.0, margin + (q_alpha + q_power) * se) if se > 0 else None,
    ), run_sd


# ----------------------------------------------------------------------------- a recorded interval (probes)
def interval_drop(
    delta: float,
    low: float,
    high: float,
    *,
    margin: float,
    alpha: float,
    level: float = policy.CONFIDENCE,
    n: int | None = None,
) -> DropTest:
    """Re-test a recorded change (run - reference) that kept its two-sided ``level`` interval but no items.

    Probe deltas are stored with an interval at the policy's confidence (a
    paired bootstrap; for 0/1 items the continuity-corrected score interval,
    which is not symmetric). A normal standard error is read off the half of
    it on the side the test looks at, se = (high - delta) / z, z = 1.96 at 95%
    (the whole width, (high - low) / 2z, when delta is outside the interval),
    and H0 "drop <= margin" is tested at ``alpha``; the interval returned is
    1 - 2*alpha, like every gate interval. ``high`` must be above ``low``: a
    zero-width interval has no noise to read.
    """
    z = norm.isf((1 - level) / 2)
    # The upper end is the one a "the run lost more than the margin" test leans on; reading the
    # standard error off the whole width of a skewed interval would call 4 lost / 0 gained of 100
    # significant where the exact sign test gives p = 0.125.
    se = (high - delta) / z if low <= delta < high else (high - low) / (2 * z)
    drop = -delta
    half = norm.isf(alpha) * se
    p_value = float(norm.sf((drop - margin) / se))
    return DropTest(
        estimate=drop,
        ci_low=float(drop - half),
        ci_high=float(drop + half),
        confidence=1 - 2 * alpha,
        p_value=p_value,
        method=f"normal approximation from a {level:.0%} interval",
        n=n,
    )


# ----------------------------------------------------------------------------- family-wise control
def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: reject H_i at family-wise alpha exactly when adjusted p_i < alpha.

    The same numbers as statsmodels' ``multipletests(method="holm")``
    (tests/unit/test_stats.py checks), written out because that function runs
    ``gc.collect()`` on every call, 90 ms each, which the gate simulation calls
    hundreds of thousands of times.
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    steps = np.minimum(1.0, (len(p) - np.arange(len(p))) * p[order])
    adjusted = np.empty_like(p)
    adjusted[order] = np.maximum.accumulate(steps)
    return adjusted.tolist()


# ----------------------------------------------------------------------------- verdicts
def verdict(estimate_worse: bool, p_value: float | None, alpha: float) -> str:
    """pass: no worse than allowed; fail: worse and significant; inconclusive: worse, not significant."""
    if not estimate_worse:
        return "pass"
    if p_value is not None and p_value < alpha:
        return "fail"
    return "inconclusive"
