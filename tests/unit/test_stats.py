"""harness.stats: one confidence level, one resampling policy, and the intervals built on them. Pure numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, norm
from scipy.stats import t as t_dist
from sklearn.metrics import f1_score

from harness.stats import additive, intervals, paired, policy, resampling

LABELS = ["a", "b", "c"]


def predictions(n: int, seed: int, accuracy: float) -> tuple[list[str], list[str | None]]:
    rng = np.random.default_rng(seed)
    gold = [LABELS[k] for k in rng.integers(0, 3, n)]
    predicted = [
        g if rng.random() < accuracy else (None if rng.random() < 0.3 else LABELS[rng.integers(0, 3)]) for g in gold
    ]
    return gold, predicted


def sklearn_macro_f1(gold, predicted) -> float:
    return f1_score(gold, [p or "<invalid>" for p in predicted], labels=LABELS, average="macro", zero_division=0)


# ----------------------------------------------------------------------------- policy
def test_one_confidence_level_and_one_resample_count():
    assert (policy.CONFIDENCE, policy.RESAMPLES) == (0.95, 4000)
    assert policy.two_sided_tail() == pytest.approx(0.025)
    assert policy.resample_count(None) == 4000 and policy.resample_count(300) == 300


def test_resample_count_is_read_at_call_time_so_tests_can_lower_it(monkeypatch):
    monkeypatch.setattr(policy, "RESAMPLES", 50)
    assert resampling.resample_indices(7, seed=0).shape == (50, 7)
    parts = additive.mean_parts([0.1, 0.5, 0.9])
    assert intervals.resampled(parts, additive.mean_from_sums, seed=0)["method"] == "wilson-effective-n-bootstrap-50"


def test_generator_is_seeded():
    assert np.array_equal(policy.generator(5).integers(0, 100, 20), policy.generator(5).integers(0, 100, 20))
    assert not np.array_equal(policy.generator(5).integers(0, 100, 20), policy.generator(6).integers(0, 100, 20))


# ----------------------------------------------------------------------------- resampling
def test_weights_count_the_items_the_indices_draw():
    indices = resampling.resample_indices(30, seed=4, resamples=100)
    weights = resampling.resample_weights(30, seed=4, resamples=100)
    assert indices.shape == weights.shape == (100, 30)
    for row, counts in zip(indices, weights):
        assert np.array_equal(np.bincount(row, minlength=30), counts)


def test_swap_masks_are_zero_one_and_seeded():
    masks = resampling.swap_masks(40, seed=1, resamples=200)
    assert masks.shape == (200, 40) and set(np.unique(masks)) == {0.0, 1.0}
    assert np.array_equal(masks, resampling.swap_masks(40, seed=1, resamples=200))


def test_paired_draws_are_second_minus_first_on_the_same_items():
    gold, good = predictions(50, seed=1, accuracy=0.9)
    _, worse = predictions(50, seed=2, accuracy=0.5)
    first, second = additive.macro_f1_parts(gold, worse, LABELS), additive.macro_f1_parts(gold, good, LABELS)
    combine = additive.macro_f1_from_sums
    draws = resampling.paired_draws(first, second, combine, seed=3, resamples=20)
    weights = resampling.resample_weights(50, seed=3, resamples=20)
    assert np.array_equal(draws, combine(weights @ second) - combine(weights @ first))
    with pytest.raises(ValueError, match="items"):
        resampling.paired_draws(first, second[:10], combine, seed=3)


# ----------------------------------------------------------------------------- one metric's interval
def test_proportion_is_wilson_at_95_percent():
    result = intervals.proportion(0, 20)
    assert result["value"] == 0.0 and result["ci_low"] == pytest.approx(0.0, abs=1e-12)
    assert result["ci_high"] == pytest.approx(1.96**2 / (20 + 1.96**2), rel=1e-3)  # Wilson's upper end at 0 of n
    assert intervals.proportion(0, 0) == {"value": None, "ci_low": None, "ci_high": None, "n": 0, "method": "wilson"}


def test_index_bootstrap_and_parts_bootstrap_draw_the_same_items(monkeypatch):
    """A scorer's statistic over item indices and the same metric as additive parts give the same interval."""
    monkeypatch.setattr(policy, "RESAMPLES", 300)  # sklearn once per resample: a few ms each
    gold, predicted = predictions(80, seed=7, accuracy=0.6)
    gold_arr, pred_arr = np.asarray(gold, dtype=object), np.asarray(predicted, dtype=object)
    by_index = intervals.bootstrap(lambda idx: sklearn_macro_f1(gold_arr[idx], pred_arr[idx]), 80, seed=9)
    by_parts = intervals.resampled(
        additive.macro_f1_parts(gold, predicted, LABELS), additive.macro_f1_from_sums, seed=9
    )
    assert by_index["method"] == by_parts["method"] == "wilson-effective-n-bootstrap-300"
    for key in ("value", "ci_low", "ci_high"):
        assert by_index[key] == pytest.approx(by_parts[key], abs=1e-12)
    assert by_index["ci_low"] < by_index["value"] < by_index["ci_high"]


def test_mean_interval_matches_normal_theory_and_keeps_the_plain_mean():
    values = np.random.default_rng(0).random(500)
    result = intervals.mean(values)
    assert result["value"] == float(values.mean()) and result["n"] == 500
    assert result["method"] == "wilson-effective-n"
    half = 1.96 * values.std() / math.sqrt(500)
    assert result["ci_low"] == pytest.approx(values.mean() - half, abs=0.003)
    assert result["ci_high"] == pytest.approx(values.mean() + half, abs=0.003)
    assert intervals.mean([])["value"] is None


def test_mean_of_zero_one_scores_is_exactly_the_wilson_interval_of_their_share():
    for successes, n in ((0, 20), (7, 20), (20, 20), (1, 3)):
        result = intervals.mean([1.0] * successes + [0.0] * (n - successes))
        wilson = intervals.proportion(successes, n)
        assert (result["ci_low"], result["ci_high"]) == pytest.approx((wilson["ci_low"], wilson["ci_high"]), abs=1e-12)


def test_perfect_score_on_50_items_keeps_a_width_and_contains_the_estimate():
    """The invoice case: field F1 1.000 on 50 items was "1.000-1.000" under the percentile bootstrap."""
    perfect = [1.0] * 50
    counts = np.tile([4.0, 0.0, 0.0], (50, 1))  # per item: 4 fields right, none spurious, none missed

    def micro_f1(idx: np.ndarray) -> float:
        tp, fp, fn = counts[idx].sum(axis=0)
        return 2 * tp / (2 * tp + fp + fn)

    gold = [LABELS[i % 3] for i in range(50)]
    for result in (
        intervals.mean(perfect),
        intervals.resampled(additive.mean_parts(perfect), additive.mean_from_sums, seed=0),
        intervals.bootstrap(micro_f1, 50, seed=0),
        intervals.resampled(additive.macro_f1_parts(gold, gold, LABELS), additive.macro_f1_from_sums, seed=0),
    ):
        assert result["value"] == 1.0
        assert result["ci_low"] < result["value"] <= result["ci_high"] == 1.0
        # Wilson's lower end at 50 of 50: n / (n + z^2), width that of a share of 50 items
        assert result["ci_low"] == pytest.approx(50 / (50 + norm.isf(0.025) ** 2), abs=1e-9)
    zero = intervals.mean([0.0] * 50)
    assert zero["ci_low"] == 0.0 < zero["ci_high"]


def test_no_zero_width_interval_anywhere_in_zero_to_one_below_a_few_thousand_items():
    rng = np.random.default_rng(11)
    for n in (5, 50, 300, 3000):
        for centre in (0.0, 0.02, 0.5, 0.98, 1.0):
            values = np.clip(centre + rng.normal(0, 0.01, n), 0, 1) if 0 < centre < 1 else np.full(n, centre)
            result = intervals.mean(values)
            assert result["ci_high"] - result["ci_low"] > 0, (n, centre)
            assert result["ci_low"] <= result["value"] <= result["ci_high"]


@pytest.mark.parametrize(
    "draw",
    [
        pytest.param(lambda rng, n: (rng.random(n) < 0.4).astype(float), id="zero-one scores, p=0.4"),
        pytest.param(lambda rng, n: rng.beta(2.0, 3.0, n), id="continuous scores, mean 0.4"),
    ],
)
def test_mean_interval_covers_the_true_mean_about_95_percent_of_the_time(draw):
    """2,000 simulated test sets of 80 items (seeded): the share whose interval holds the true mean 0.4."""
    rng = np.random.default_rng(2026)
    trials = 2000
    covered = 0
    for _ in range(trials):
        result = intervals.mean(draw(rng, 80))
        covered += result["ci_low"] <= 0.4 <= result["ci_high"]
    # Monte-Carlo standard error at 0.95 over 2,000 trials is 0.005; these bounds are about 4 of them.
    assert 0.93 <= covered / trials <= 0.97


def test_bootstrapped_interval_covers_a_ratio_metric_about_95_percent_of_the_time(monkeypatch):
    """Field-F1-like micro F1 (a ratio of summed counts), its variance from the bootstrap: seeded simulation."""
    monkeypatch.setattr(policy, "RESAMPLES", 400)  # the variance needs far fewer resamples than a tail
    rng = np.random.default_rng(7)
    n, trials, covered = 100, 300, 0
    true_f1 = 2 * 0.7 / (2 * 0.7 + 0.3 + 0.3)  # per field: right 70%, else one spurious and one missed value
    for trial in range(trials):
        right = rng.random((n, 4)) < 0.7
        counts = np.stack([right, ~right, ~right], axis=-1).sum(axis=1).astype(float)  # per item: tp, fp, fn

        def micro_f1(idx: np.ndarray, counts=counts) -> float:
            tp, fp, fn = counts[idx].sum(axis=0)
            return 2 * tp / (2 * tp + fp + fn)

        result = intervals.bootstrap(micro_f1, n, seed=trial)
        covered += result["ci_low"] <= true_f1 <= result["ci_high"]
    assert 0.91 <= covered / trials <= 0.98  # 300 trials: Monte-Carlo standard error about 0.013


# ----------------------------------------------------------------------------- a paired difference's interval
def test_paired_mean_delta_matches_normal_theory_and_is_seeded():
    # 400 items: the variant flips 40 right answers to wrong and 10 wrong to right.
    base = [1.0] * 200 + [0.0] * 200
    variant = [0.0] * 40 + [1.0] * 160 + [1.0] * 10 + [0.0] * 190
    delta, low, high = intervals.paired_mean_delta(base, variant, seed=0)
    assert delta == pytest.approx(-30 / 400)
    var = (50 / 400) - (30 / 400) ** 2  # differences d in {-1, 0, +1}; sd of the mean = sqrt(var(d) / n)
    half = 1.96 * (var / 400) ** 0.5
    assert low == pytest.approx(delta - half, abs=0.005) and high == pytest.approx(delta + half, abs=0.005)
    assert intervals.paired_mean_delta(base, variant, seed=0) == (delta, low, high)


def test_paired_mean_delta_exact_small_cases():
    # Scores other than 0/1 (0/1 scores get the score interval, below): the paired bootstrap.
    assert intervals.paired_mean_delta([0.8] * 40, [0.3] * 40, seed=0) == pytest.approx((-0.5, -0.5, -0.5))
    # Two items, one down by 1: resample means are -1, -0.5, 0 with chances 1/4, 1/2, 1/4.
    assert intervals.paired_mean_delta([1.0, 0.5], [0.0, 0.5], seed=0) == (-0.5, -1.0, 0.0)
    with pytest.raises(ValueError, match="length"):
        intervals.paired_mean_delta([1.0, 1.0], [0.0], seed=0)


def test_paired_delta_of_macro_f1_is_b_minus_a():
    gold, good = predictions(120, seed=3, accuracy=0.9)
    _, worse = predictions(120, seed=4, accuracy=0.5)
    parts_a, parts_b = additive.macro_f1_parts(gold, worse, LABELS), additive.macro_f1_parts(gold, good, LABELS)
    delta, low, high = intervals.paired_delta(parts_a, parts_b, additive.macro_f1_from_sums, seed=0)
    assert delta == pytest.approx(sklearn_macro_f1(gold, good) - sklearn_macro_f1(gold, worse), abs=1e-12)
    assert 0 < low < delta < high


# ----------------------------------------------------------------------------- paired tests outside the gate
def test_two_sided_mcnemar_is_the_exact_binomial_test():
    assert paired.mcnemar_two_sided(0, 0) == 1.0
    assert paired.mcnemar_two_sided(4, 1) == pytest.approx(0.375)
    assert paired.mcnemar_two_sided(3, 12) == pytest.approx(binomtest(3, 15, 0.5).pvalue)


def test_interval_drop_reads_the_standard_error_off_a_95_percent_interval():
    # A probe fell 4 points with a 95% interval [-8, 0]: se = 4 / 1.96.
    test = paired.interval_drop(-0.04, -0.08, 0.0, margin=0.01, alpha=0.01)
    se = 0.08 / (2 * norm.isf(0.025))
    assert test.estimate == pytest.approx(0.04) and test.confidence == pytest.approx(0.98)
    assert test.p_value == pytest.approx(norm.sf(0.03 / se))
    assert (test.ci_low, test.ci_high) == pytest.approx((0.04 - norm.isf(0.01) * se, 0.04 + norm.isf(0.01) * se))


def test_holm_adjusted_p_values_match_statsmodels(monkeypatch):
    import gc

    from statsmodels.stats.multitest import multipletests

    # multipletests' Holm branch runs gc.collect() at every call: about a second each in a full test
    # session's heap (77 s for this test in CI); collecting garbage has no bearing on the p-values compared.
    monkeypatch.setattr(gc, "collect", lambda *args: 0)

    rng = np.random.default_rng(17)
    for size in (1, 2, 3, 6):
        for _ in range(20):
            p = rng.random(size) ** 3
            assert paired.holm_adjusted(p) == pytest.approx(multipletests(p, method="holm")[1].tolist(), abs=1e-15)
    assert paired.holm_adjusted([0.004, 0.03, 0.2]) == pytest.approx([0.012, 0.06, 0.2])


def test_between_runs_drop_is_a_prediction_t_test_on_the_runs_spread():
    def drop(estimate, se):  # a paired test whose 98% interval says se
        z = paired.norm.isf(0.01)
        return paired.DropTest(estimate, estimate - z * se, estimate + z * se, 0.98, 0.5, "x", 300)

    # Baseline runs 3 points apart: their spread dominates the item noise (se 1 point).
    test, run_sd = paired.between_runs_drop(
        [drop(0.04, 0.01), drop(0.01, 0.01), drop(0.07, 0.01)], margin=0, alpha=0.01
    )
    se = math.sqrt(0.03**2 * (1 + 1 / 3))
    assert test.estimate == pytest.approx(0.04) and test.p_value == pytest.approx(t_dist.sf(0.04 / se, 2))
    assert run_sd == pytest.approx(math.sqrt(0.03**2 - 0.01**2 / 2))
    # Runs that agree exactly: the item noise is the floor of the variance, not zero.
    same, sd = paired.between_runs_drop([drop(0.02, 0.01)] * 3, margin=0, alpha=0.01)
    assert sd == 0 and same.p_value == pytest.approx(t_dist.sf(0.02 / math.sqrt(0.01**2 / 2 * (4 / 3)), 2))
