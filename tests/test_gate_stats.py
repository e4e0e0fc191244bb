"""The gate's paired tests, with exact expected values and checks against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import norm
from sklearn.metrics import f1_score
from statsmodels.stats.contingency_tables import mcnemar

from harness.stats import additive, resampling
from harness.stats import paired as stats


def outcomes(both_right: int, only_baseline: int, only_run: int, both_wrong: int) -> tuple[list[bool], list[bool]]:
    """Per-item correctness for a baseline and a run with the given 2x2 counts."""
    baseline = [True] * both_right + [True] * only_baseline + [False] * only_run + [False] * both_wrong
    run = [True] * both_right + [False] * only_baseline + [True] * only_run + [False] * both_wrong
    return baseline, run


# ----------------------------------------------------------------------------- McNemar (margin 0)
def test_mcnemar_exact_below_25_discordant():
    p, method = stats.mcnemar_one_sided(7, 0)
    assert p == 0.5**7  # every one of 7 discordant pairs went against the run
    assert "exact" in method
    p, _ = stats.mcnemar_one_sided(20, 2)
    assert p == pytest.approx((231 + 22 + 1) / 2**22, rel=1e-12)  # P(X >= 20), X ~ Bin(22, 1/2)


@pytest.mark.parametrize("n10, n01", [(7, 0), (12, 5), (20, 2), (18, 6), (30, 10), (60, 41), (26, 24)])
def test_mcnemar_is_half_of_statsmodels_two_sided(n10, n01):
    exact = (n10 + n01) < stats.EXACT_BELOW
    two_sided = mcnemar([[100, n10], [n01, 100]], exact=exact, correction=True).pvalue
    assert stats.mcnemar_one_sided(n10, n01)[0] == pytest.approx(two_sided / 2, rel=1e-9)


def test_mcnemar_chi_square_with_continuity_correction():
    p, method = stats.mcnemar_one_sided(30, 10)
    assert p == pytest.approx(0.0013315596, rel=1e-6)  # z = (20 - 1) / sqrt(40)
    assert "continuity" in method


def test_mcnemar_run_better_or_identical_is_not_significant():
    assert stats.mcnemar_one_sided(0, 0)[0] == 1.0
    assert stats.mcnemar_one_sided(2, 20)[0] > 0.99
    assert stats.mcnemar_one_sided(10, 40)[0] > 0.99


# ----------------------------------------------------------------------------- Tango (margin > 0)
def test_tango_at_margin_zero_is_mcnemar_z():
    assert stats.tango_z(20, 5, 300, 0.0) == pytest.approx(15 / math.sqrt(25))


def test_tango_hand_computed_value():
    # B = -12 + 192 * 0.02 = -8.16, C = -2 * 0.02 * 0.98, q = (sqrt(B^2 - 8nC) - B) / 4n = 0.0451419
    assert stats.tango_z(10, 2, 100, 0.02) == pytest.approx(1.8100249, rel=1e-6)


@pytest.mark.parametrize(
    "n10, n01, n, margin",
    [(10, 2, 100, 0.02), (3, 9, 50, -0.05), (40, 20, 160, 0.1), (0, 5, 300, 0.02), (25, 25, 300, -0.03)],
)
def test_tango_uses_the_restricted_maximum_likelihood(n10, n01, n, margin):
    """The variance must come from the MLE of p01 under H0 (p10 = p01 + margin); check it numerically."""
    concordant = n - n10 - n01

    def negative_loglik(q: float) -> float:
        return -(n10 * math.log(q + margin) + n01 * math.log(q) + concordant * math.log(1 - 2 * q - margin))

    low, high = max(1e-12, -margin + 1e-12), (1 - margin) / 2 - 1e-12
    q = minimize_scalar(negative_loglik, bounds=(low, high), method="bounded", options={"xatol": 1e-13}).x
    expected = (n10 - n01 - n * margin) / math.sqrt(n * (2 * q + margin * (1 - margin)))
    assert stats.tango_z(n10, n01, n, margin) == pytest.approx(expected, rel=1e-5)


def test_tango_interval_ends_are_where_the_test_flips():
    low, high = stats.tango_interval(20, 2, 300, 0.98)
    z = 2.3263478740
    assert stats.tango_z(20, 2, 300, low) == pytest.approx(z, abs=1e-6)
    assert stats.tango_z(20, 2, 300, high) == pytest.approx(-z, abs=1e-6)
    assert (low, high) == pytest.approx((0.0276324, 0.1027457), abs=1e-6)


def test_tango_interval_edges_and_symmetry():
    assert stats.tango_interval(10, 0, 10, 0.95)[1] == 1.0  # every item lost: no upper root
    assert stats.tango_interval(0, 10, 10, 0.95)[0] == -1.0
    low, high = stats.tango_interval(0, 0, 10, 0.95)
    assert low == pytest.approx(-high) and high == pytest.approx(1.96**2 / (10 + 1.96**2), rel=1e-3)


# ----------------------------------------------------------------------------- paired_binary_drop
def test_identical_runs_pass_with_p_one():
    baseline, run = outcomes(240, 0, 0, 60)
    test = stats.paired_binary_drop(baseline, run, margin=0.0, alpha=0.01)
    assert (test.estimate, test.p_value, test.discordant) == (0.0, 1.0, 0)
    assert stats.verdict(test.estimate > 0, test.p_value, 0.01) == "pass"


def test_six_point_drop_on_300_items_fails_at_margin_zero_and_two():
    baseline, run = outcomes(200, 20, 2, 78)
    at_zero = stats.paired_binary_drop(baseline, run, margin=0.0, alpha=0.01)
    assert at_zero.estimate == pytest.approx(0.06)
    assert at_zero.p_value == pytest.approx(254 / 2**22)
    assert at_zero.method == "McNemar exact (22 discordant)"
    assert at_zero.confidence == pytest.approx(0.98)
    at_two = stats.paired_binary_drop(baseline, run, margin=0.02, alpha=0.01)
    assert at_two.p_value == pytest.approx(norm.sf(stats.tango_z(19.5, 2.5, 300, 0.02)), rel=1e-12)
    assert at_two.p_value == pytest.approx(0.0053162, rel=1e-4)
    assert at_two.method == "Tango score test, continuity corrected, margin 0.02"
    assert stats.verdict(at_two.estimate > 0.02, at_two.p_value, 0.01) == "fail"


def test_few_one_way_flips_at_a_tiny_margin_are_not_significant():
    # 5 one-way flips on 1000 items: the exact test at margin 0 gives p = 1/32, and a margin above 0
    # can only make a regression harder to show.
    baseline, run = outcomes(800, 5, 0, 195)
    test = stats.paired_binary_drop(baseline, run, margin=0.001, alpha=0.01)
    assert test.p_value > 0.01 and test.ci_low < 0.001  # the verdict and the interval agree


def exact_size(n: int, margin: float, gain: float, alpha: float, p_value=stats.tango_p) -> float:
    """P(fail) at the edge of H0 (drop = margin, the run gains ``gain`` of the items), summed exactly over
    every (n10, n01) with non-negligible probability: (n10, n01, rest) ~ Multinomial(n; gain + margin, gain).
    ``tango_p`` is the p-value ``binary_drop_from_counts`` decides by at a margin above 0."""
    from scipy.stats import multinomial

    p10, p01 = gain + margin, gain
    top10 = int(n * p10 + 8 * math.sqrt(n * p10) + 10)
    top01 = int(n * p01 + 8 * math.sqrt(n * p01) + 10)
    cells = [(b, c) for b in range(min(top10, n) + 1) for c in range(min(top01, n - b) + 1)]
    probs = multinomial.pmf([[b, c, n - b - c] for b, c in cells], n, [p10, p01, 1 - p10 - p01])
    assert probs.sum() > 1 - 1e-9  # the cells left out carry no probability that matters
    fails = np.array([p_value(b, c, n, margin) < alpha for b, c in cells])
    return float(probs[fails].sum())


@pytest.mark.parametrize(
    "n, margin, gain, uncorrected",
    [
        (300, 0.02, 0.0025, 0.0202),  # the grid, alpha 0.01: Tango alone was liberal here
        (300, 0.02, 0.01, 0.0145),
        (100, 0.05, 0.0025, 0.0128),
        (100, 0.05, 0.01, 0.0156),
    ],
)
def test_margin_test_size_is_at_most_alpha(n, margin, gain, uncorrected):
    """Exact size by enumerating the multinomial, not simulation: deterministic, no Monte Carlo error."""
    assert exact_size(n, margin, gain, 0.01) <= 0.01
    assert stats.binary_drop_from_counts(3, 0, n, margin=margin, alpha=0.01).p_value == stats.tango_p(3, 0, n, margin)

    def plain(b, c, n, margin):  # the uncorrected score test the gate used before: the bug, reproduced
        return norm.sf(stats.tango_z(b, c, n, margin))

    assert exact_size(n, margin, gain, 0.01, plain) == pytest.approx(uncorrected, abs=5e-4)


def test_interval_agrees_with_the_verdict_at_margin_zero():
    # 6 lost, 0 gained: exact p = 1/64 > 0.01, so the 98% interval must reach below 0 (it printed [+0.3, ...]).
    test = stats.binary_drop_from_counts(6, 0, 300, margin=0.0, alpha=0.01)
    assert test.p_value == pytest.approx(1 / 64) and test.ci_low < 0 < test.estimate
    for n10, n01 in [(7, 0), (12, 2), (20, 8), (40, 22), (3, 3)]:
        test = stats.binary_drop_from_counts(n10, n01, 300, margin=0.0, alpha=0.01)
        assert (test.ci_low > 0) == (test.p_value < 0.01), (n10, n01)
    for n10, n01 in [(12, 2), (20, 4), (30, 10)]:  # and at a margin, for the score test
        test = stats.binary_drop_from_counts(n10, n01, 300, margin=0.02, alpha=0.01)
        assert (test.ci_low > 0.02) == (test.p_value < 0.01), (n10, n01)


def test_small_drop_is_inconclusive_not_fail():
    baseline, run = outcomes(230, 6, 2, 62)  # 1.3 points worse, 8 discordant
    test = stats.paired_binary_drop(baseline, run, margin=0.0, alpha=0.01)
    assert test.p_value == pytest.approx(37 / 256)  # P(X >= 6), X ~ Bin(8, 1/2)
    assert stats.verdict(test.estimate > 0, test.p_value, 0.01) == "inconclusive"


def test_unequal_lengths_are_refused():
    with pytest.raises(ValueError, match="length"):
        stats.paired_binary_drop([True, False], [True], margin=0.0, alpha=0.01)


# ----------------------------------------------------------------------------- minimum detectable drop
def test_minimum_detectable_drop_grows_with_noise_and_margin_and_shrinks_with_n():
    mdd = stats.minimum_detectable_drop
    assert mdd(300, 0.05, margin=0.0, alpha=0.01) < mdd(300, 0.10, margin=0.0, alpha=0.01)
    assert mdd(300, 0.05, margin=0.0, alpha=0.01) < mdd(300, 0.05, margin=0.02, alpha=0.01)
    assert mdd(1000, 0.05, margin=0.0, alpha=0.01) < mdd(300, 0.05, margin=0.0, alpha=0.01)
    assert mdd(300, 0.05, margin=0.0, alpha=0.01) == pytest.approx(0.04984, abs=1e-4)


def test_minimum_detectable_drop_without_noise_needs_seven_flips_at_alpha_one_percent():
    assert stats.minimum_detectable_drop(9, 0.0, margin=0.0, alpha=0.01) == pytest.approx(7 / 9)
    assert stats.minimum_detectable_drop(300, 0.0, margin=0.0, alpha=0.01) == pytest.approx(7 / 300)


# ----------------------------------------------------------------------------- floors
def test_binary_floor_exact_values():
    far_below = stats.binary_floor(280, 300, floor=0.98, alpha=0.01)
    assert far_below.p_value == pytest.approx(3.75123e-06, rel=1e-4)
    assert far_below.ci_high < 0.98
    assert stats.verdict(far_below.value < 0.98, far_below.p_value, 0.01) == "fail"
    near = stats.binary_floor(290, 300, floor=0.98, alpha=0.01)
    assert near.p_value == pytest.approx(0.081838, rel=1e-4)
    assert near.ci_high > 0.98  # the Clopper-Pearson end agrees with the exact test
    assert stats.verdict(near.value < 0.98, near.p_value, 0.01) == "inconclusive"


# ----------------------------------------------------------------------------- resampling / macro-F1
LABELS = ["a", "b", "c"]


def random_predictions(n: int, seed: int, accuracy: float) -> tuple[list[str], list[str | None]]:
    rng = np.random.default_rng(seed)
    gold = [LABELS[k] for k in rng.integers(0, 3, n)]
    predicted = [
        g if rng.random() < accuracy else (None if rng.random() < 0.3 else LABELS[rng.integers(0, 3)]) for g in gold
    ]
    return gold, predicted


def test_weighted_macro_f1_matches_sklearn_on_repeated_items():
    gold, predicted = random_predictions(60, seed=1, accuracy=0.6)
    weights = resampling.resample_weights(60, seed=2, resamples=5)
    ours = additive.macro_f1_weighted(gold, predicted, LABELS, weights)
    for row, value in zip(weights.astype(int), ours):
        expanded_gold = [g for g, w in zip(gold, row) for _ in range(w)]
        expanded_pred = [p if p is not None else "<invalid>" for p, w in zip(predicted, row) for _ in range(w)]
        expected = f1_score(expanded_gold, expanded_pred, labels=LABELS, average="macro", zero_division=0)
        assert value == pytest.approx(expected, abs=1e-12)


def test_resample_weights_each_row_draws_n_items():
    weights = resampling.resample_weights(50, seed=3, resamples=200)
    assert weights.shape == (200, 50) and np.all(weights.sum(axis=1) == 50)
    assert np.array_equal(weights, resampling.resample_weights(50, seed=3, resamples=200))


def f1_parts(gold, predicted):
    return additive.macro_f1_parts(gold, predicted, LABELS)


def test_identical_predictions_pass_with_p_one():
    gold, predicted = random_predictions(100, seed=4, accuracy=0.7)
    parts = f1_parts(gold, predicted)
    test = stats.paired_resampled_drop(
        parts, parts, additive.macro_f1_from_sums, margin=0.0, alpha=0.01, seed=0, resamples=500
    )
    assert test.estimate == 0.0 and test.p_value == 1.0 and (test.ci_low, test.ci_high) == (0.0, 0.0)
    assert test.method == "paired permutation test, 500 swaps"


def test_permutation_test_matches_a_brute_force_swap_loop():
    gold, good = random_predictions(40, seed=8, accuracy=0.8)
    _, worse = random_predictions(40, seed=9, accuracy=0.6)
    base, run = f1_parts(gold, good), f1_parts(gold, worse)
    p = stats.paired_permutation_p(base, run, additive.macro_f1_from_sums, seed=5, resamples=300)
    swaps = np.random.default_rng(5).integers(0, 2, size=(300, 40))
    observed = f1_score(gold, [x or "-" for x in good], labels=LABELS, average="macro", zero_division=0) - f1_score(
        gold, [x or "-" for x in worse], labels=LABELS, average="macro", zero_division=0
    )
    at_least = 0
    for row in swaps:
        b = [w if s else g for g, w, s in zip(good, worse, row)]
        r = [g if s else w for g, w, s in zip(good, worse, row)]
        drop = f1_score(gold, [x or "-" for x in b], labels=LABELS, average="macro", zero_division=0) - f1_score(
            gold, [x or "-" for x in r], labels=LABELS, average="macro", zero_division=0
        )
        at_least += drop >= observed - 1e-12
    assert p == (1 + at_least) / 301


def test_large_f1_drop_fails_deterministically_at_a_margin():
    gold, good = random_predictions(300, seed=5, accuracy=0.9)
    rng = np.random.default_rng(6)
    worse = [None if rng.random() < 0.2 else p for p in good]  # a fifth of answers become unreadable
    base, run = f1_parts(gold, good), f1_parts(gold, worse)
    first = stats.paired_resampled_drop(
        base, run, additive.macro_f1_from_sums, margin=0.02, alpha=0.01, seed=11, resamples=2000
    )
    again = stats.paired_resampled_drop(
        base, run, additive.macro_f1_from_sums, margin=0.02, alpha=0.01, seed=11, resamples=2000
    )
    assert first == again
    assert first.estimate > 0.1 and first.ci_low > 0.02
    assert first.p_value == pytest.approx(1 / 2001)  # no resample comes near the margin
    assert first.method == "paired bootstrap, margin 0.02, 2000 resamples"
    assert stats.verdict(first.estimate > 0.02, first.p_value, 0.01) == "fail"


def test_resampled_drop_draws_exactly_what_the_gate_drew_before_the_merge():
    """The gate's figures must not move: the same generator, the same draws, the same quantiles, bit for bit."""
    gold, good = random_predictions(120, seed=13, accuracy=0.8)
    _, worse = random_predictions(120, seed=14, accuracy=0.7)
    base, run, combine = f1_parts(gold, good), f1_parts(gold, worse), additive.macro_f1_from_sums
    test = stats.paired_resampled_drop(base, run, combine, margin=0.02, alpha=0.01, seed=21)

    n, resamples = 120, 4000  # the gate's count before the merge, now the policy's
    draws = np.random.default_rng(21).integers(0, n, size=(resamples, n), dtype=np.int32)
    draws += (np.arange(resamples, dtype=np.int32) * n)[:, None]
    weights = np.bincount(draws.ravel(), minlength=resamples * n).reshape(resamples, n).astype(float)
    drops = combine(weights @ base) - combine(weights @ run)
    swaps = np.random.default_rng(22).integers(0, 2, size=(resamples, n)).astype(float)
    moved = swaps @ (run - base)
    observed = combine(base.sum(0, keepdims=True))[0] - combine(run.sum(0, keepdims=True))[0]
    swapped = combine(base.sum(0) + moved) - combine(run.sum(0) - moved)
    p_exact = (1 + int(np.sum(swapped >= observed - 1e-12))) / (resamples + 1)
    p_boot = (1 + int(np.sum(drops <= 0.02 + 1e-12))) / (resamples + 1)
    assert (test.ci_low, test.ci_high) == tuple(float(q) for q in np.quantile(drops, [0.01, 0.99]))
    assert test.p_value == max(p_exact, p_boot) and test.estimate == float(observed)
    assert test.method.startswith("paired bootstrap, margin 0.02, 4000 resamples")


def test_margin_bootstrap_is_capped_by_the_permutation_test():
    # Two items of 30 change, both against the run: the bootstrap alone would be confident,
    # but only a quarter of swap patterns are needed to match the drop at margin 0.
    gold, good = random_predictions(30, seed=12, accuracy=1.0)
    worse = list(good)
    worse[0] = worse[1] = None
    test = stats.paired_resampled_drop(
        f1_parts(gold, good),
        f1_parts(gold, worse),
        additive.macro_f1_from_sums,
        margin=0.001,
        alpha=0.01,
        seed=3,
        resamples=2000,
    )
    assert test.p_value > 0.2 and test.method.endswith("capped by the permutation test")


def test_resampled_floor():
    gold, predicted = random_predictions(200, seed=7, accuracy=0.5)
    parts = f1_parts(gold, predicted)
    test = stats.resampled_floor(parts, additive.macro_f1_from_sums, floor=0.9, alpha=0.01, seed=0, resamples=1000)
    assert test.value == pytest.approx(0.66379, abs=1e-5)
    assert test.ci_high < 0.9 and test.p_value == pytest.approx(1 / 1001)  # no resample reaches the floor
    assert stats.verdict(test.value < 0.9, test.p_value, 0.01) == "fail"
    close = stats.resampled_floor(parts, additive.macro_f1_from_sums, floor=0.68, alpha=0.01, seed=0, resamples=1000)
    assert close.ci_low < 0.68 < close.ci_high and close.p_value > 0.01
    assert stats.verdict(close.value < 0.68, close.p_value, 0.01) == "inconclusive"


# ----------------------------------------------------------------------------- verdict
@pytest.mark.parametrize(
    "worse, p, expected",
    [
        (False, 0.0001, "pass"),
        (False, None, "pass"),
        (True, 0.009, "fail"),
        (True, 0.01, "inconclusive"),
        (True, None, "inconclusive"),
    ],
)
def test_verdict_table(worse, p, expected):
    assert stats.verdict(worse, p, 0.01) == expected


# ----------------------------------------------------------------------------- the simulation benchmark's item model
def load_simulation():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gate_simulation.py"
    spec = importlib.util.spec_from_file_location("gate_simulation", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_simulated_items_have_the_asked_accuracy_disagreement_and_drop():
    from scipy.special import expit

    sim = load_simulation()
    model = sim.ItemModel.calibrate(accuracy=0.8, disagreement=0.05)
    p = expit(model.ability - model.sigma * sim.POPULATION)
    assert p.mean() == pytest.approx(0.8, abs=1e-6)
    assert 2 * (p * (1 - p)).mean() == pytest.approx(0.05, abs=1e-6)  # two reruns disagree on 5% of items
    shifted = expit(model.ability - model.shift_for_drop(0.05) - model.sigma * sim.POPULATION)
    assert p.mean() - shifted.mean() == pytest.approx(0.05, abs=1e-6)


def test_simulation_runs_the_gate_rules_on_correlated_outcomes():
    sim = load_simulation()
    model = sim.ItemModel.calibrate(accuracy=0.8, disagreement=0.05)
    assert sim.verdict_rates(model, 300, drop=0.15, margin=0.0, sims=30, seed=1)["fail"] == 1.0
    same = sim.verdict_rates(model, 300, drop=0.0, margin=0.0, sims=30, seed=2)
    assert same["fail"] == 0.0 and same["pass"] + same["inconclusive"] == pytest.approx(1.0)


def test_simulation_of_run_level_shifts_and_k_run_baselines():
    import numpy as np

    sim = load_simulation()
    family = sim.Family(300, 0.015, np.random.default_rng(3))
    family.items()
    values = [family.run().correct.mean() for _ in range(200)]
    # the run shift (1.5 pts) and one run's item noise (sqrt(0.025 / 300) = 0.91 pts) together
    assert np.std(values) == pytest.approx(math.hypot(0.015, 0.0091), abs=0.003)
    row = sim.run_row("generation", 300, 0.01, 3, sims=15, seed=4)
    assert row.rules == 2 and row.false_alarm == 0.0 and row.mdd > 0.05  # K = 3: a wide, honest MDD
    base = [family.run() for _ in range(3)]
    collapse = family.run(family.acc.shift_for_drop(0.4))
    assert sim.gate_verdict(base, collapse, ("accuracy",), True) == "fail"
