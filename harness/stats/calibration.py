"""Calibration and selective prediction: does a classifier's confidence mean what it says?

Inputs are per item: the confidence of the answer given (a probability in
[0, 1]) and whether that answer was right. Everything here is a function of
those two arrays, so the same code scores an LLM (rank or generate mode) and a
classical classifier.

- **ECE** (expected calibration error), with a stated binning: items sorted by
  confidence and cut into ``BINS`` = 10 *equal-mass* bins (``numpy.array_split``
  of the sorted items: bin sizes differ by at most one). ECE is the items'
  share-weighted mean of |accuracy - mean confidence| over the bins. Equal-mass
  bins, not equal-width ones, because a fine-tuned model puts most of its
  confidences above 0.9, and equal-width bins would leave nine nearly empty bins
  and one that holds everything (Nixon et al. 2019, "Measuring calibration in
  deep learning").
- **Brier score** on the chosen answer: the mean of (confidence - correct)^2,
  correct as 0/1. This is the binary Brier score of "the answer is right", not
  the multi-class Brier over every label's probability (generate mode has only
  the chosen answer's probability, so this is the one every variant has).
- **Risk-coverage**: answer only the most confident share c of the items
  (coverage); selective accuracy is the accuracy on those. Items are ranked by
  confidence, highest first, ties in item order; coverage c keeps the first
  ceil(c * n). AURC is the mean selective risk (1 - selective accuracy) over
  every coverage k/n, k = 1..n: the area under the risk-coverage curve (Geifman
  and El-Yaniv 2017), lower is better.

Intervals: ECE, selective accuracy and AURC are bootstrapped over items (the
policy's resamples and 95% level, stats/policy.py) and given as the project's
effective-n Wilson interval (stats/intervals.py); Brier, a mean of per-item
numbers in [0, 1], gets ``intervals.mean``. Abstention's test figures are shares
at a threshold fixed beforehand (on validation), so they get plain Wilson
intervals.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from harness.stats import intervals, resampling

BINS = 10
COVERAGES = (0.5, 0.8, 0.9)
BINNING = f"{BINS} equal-mass bins by confidence"
BRIER = "binary Brier score of the chosen answer: mean of (confidence - correct)^2"
CHUNK = 500  # bootstrap resamples computed at once
CURVE_STEP = 0.05  # the stored risk-coverage curve: selective accuracy every 5 points of coverage


def _arrays(confidence: Sequence[float], correct: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=float)
    if conf.shape != right.shape or conf.ndim != 1:
        raise ValueError(f"confidence and correct differ in shape: {conf.shape} vs {right.shape}")
    if len(conf) and (np.isnan(conf).any() or conf.min() < 0 or conf.max() > 1):
        raise ValueError("confidences must be probabilities in [0, 1]")
    return conf, right


def _bin_starts(n: int, bins: int) -> np.ndarray:
    """Where each equal-mass bin starts among n sorted items (array_split's sizes); never an empty bin."""
    sizes = [len(chunk) for chunk in np.array_split(np.arange(n), min(bins, n))]
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)


def _ranked(conf: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row of (rows, n) arrays ordered by confidence, highest first, ties in item order: one sort serves
    the risk-coverage curve (read forwards) and the ECE bins (read backwards, from the lowest confidence)."""
    order = np.argsort(-conf, axis=1, kind="stable")
    return np.take_along_axis(conf, order, axis=1), np.take_along_axis(right, order, axis=1)


def _ece_rows(conf_ranked: np.ndarray, right_ranked: np.ndarray, bins: int) -> np.ndarray:
    """ECE of each ranked row: equal-mass bins cut from the lowest confidence up (``_ranked`` reversed)."""
    n = conf_ranked.shape[1]
    starts = _bin_starts(n, bins)
    # share-weighted |accuracy - confidence| of a bin is |sum(correct) - sum(confidence)| / n
    gaps = np.add.reduceat(right_ranked[:, ::-1], starts, axis=1) - np.add.reduceat(
        conf_ranked[:, ::-1], starts, axis=1
    )
    return np.abs(gaps).sum(axis=1) / n


def _selective_rows(right_ranked: np.ndarray) -> np.ndarray:
    """(rows, n): selective accuracy of each ranked row when its k most confident items are kept, k = 1..n."""
    return np.cumsum(right_ranked, axis=1) / np.arange(1, right_ranked.shape[1] + 1)


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> float:
    conf, right = _arrays(confidence, correct)
    if not len(conf):
        raise ValueError("ECE needs at least one item")
    return float(_ece_rows(*_ranked(conf[None], right[None]), bins)[0])


def brier_score(confidence: Sequence[float], correct: Sequence[bool]) -> float:
    conf, right = _arrays(confidence, correct)
    return float(np.mean((conf - right) ** 2))


def reliability_bins(confidence: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> list[dict]:
    """The reliability diagram's points: per equal-mass bin, its items, mean confidence, accuracy and range."""
    conf, right = _arrays(confidence, correct)
    order = np.argsort(-conf, kind="stable")[::-1]  # the ECE's bins, lowest confidence first
    out = []
    for chunk in np.array_split(order, min(bins, len(conf))) if len(conf) else []:
        out.append(
            {
                "n": int(len(chunk)),
                "confidence": float(conf[chunk].mean()),
                "accuracy": float(right[chunk].mean()),
                "low": float(conf[chunk].min()),
                "high": float(conf[chunk].max()),
            }
        )
    return out


def _kept(n: int, coverage: float) -> int:
    return max(1, math.ceil(coverage * n - 1e-9))  # 1e-9: 0.8 * 10 is 8.000000000000002 in floating point


def selective_accuracy(confidence: Sequence[float], correct: Sequence[bool], coverage: float) -> float:
    """Accuracy on the ceil(coverage * n) most confident items."""
    conf, right = _arrays(confidence, correct)
    return float(_selective_rows(_ranked(conf[None], right[None])[1])[0, _kept(len(conf), coverage) - 1])


def aurc(confidence: Sequence[float], correct: Sequence[bool]) -> float:
    """Area under the risk-coverage curve: mean selective risk over coverages 1/n .. n/n."""
    conf, right = _arrays(confidence, correct)
    return float(1 - _selective_rows(_ranked(conf[None], right[None])[1])[0].mean())


def calibration_metrics(confidence: Sequence[float], correct: Sequence[bool], *, seed: int) -> dict:
    """ECE, Brier, selective accuracy at COVERAGES and AURC (each with its 95% interval), the diagram's bins
    and the risk-coverage curve; one bootstrap draw of the items serves every resampled figure."""
    conf, right = _arrays(confidence, correct)
    n = len(conf)
    if n == 0:
        return {}
    rows = resampling.resample_indices(n, seed=seed)
    conf_ranked, right_ranked = _ranked(conf[None], right[None])
    selective = _selective_rows(right_ranked)[0]
    kept = [_kept(n, c) - 1 for c in COVERAGES]
    ece_r, aurc_r, selective_r = [], [], []
    # Resamples in chunks: a (resamples, n) float array per step would be 100 MB at 3,000 test items.
    for start in range(0, len(rows), CHUNK):
        conf_r, right_r = _ranked(conf[rows[start : start + CHUNK]], right[rows[start : start + CHUNK]])
        ece_r.append(_ece_rows(conf_r, right_r, BINS))
        curve = _selective_rows(right_r)
        aurc_r.append(1 - curve.mean(axis=1))
        selective_r.append(curve[:, kept])
    ece_r, aurc_r, selective_r = np.concatenate(ece_r), np.concatenate(aurc_r), np.concatenate(selective_r)

    def interval(value: float, draws: np.ndarray) -> dict:
        return intervals.wilson_effective_n(
            value, float(np.var(draws)), n, f"wilson-effective-n-bootstrap-{len(draws)}"
        )

    steps = np.round(np.arange(CURVE_STEP, 1 + 1e-9, CURVE_STEP), 4)
    return {
        "n": n,
        "binning": BINNING,
        "mean_confidence": float(conf.mean()),
        "ece": interval(float(_ece_rows(conf_ranked, right_ranked, BINS)[0]), ece_r),
        "brier": {**intervals.mean((conf - right) ** 2), "means": BRIER},
        "selective_accuracy": {
            f"{c:g}": interval(float(selective[k]), selective_r[:, i]) for i, (c, k) in enumerate(zip(COVERAGES, kept))
        },
        "aurc": interval(float(1 - selective.mean()), aurc_r),
        "reliability": reliability_bins(conf, right),
        "risk_coverage": [[float(c), float(selective[_kept(n, c) - 1])] for c in steps],
    }


def choose_threshold(confidence: Sequence[float], correct: Sequence[bool], target: float) -> float | None:
    """The lowest confidence threshold whose answered items (confidence >= threshold) reach ``target`` accuracy.

    Lowest, so as many items as possible are answered. Ties are kept together: a threshold answers every
    item at or above it. None when no threshold reaches the target (the variant should answer nothing).
    """
    conf, right = _arrays(confidence, correct)
    if not len(conf):
        return None
    order = np.argsort(-conf, kind="stable")
    conf_sorted, hits = conf[order], np.cumsum(right[order])
    # the last item of each run of equal confidences: where a threshold at that confidence cuts
    ends = np.flatnonzero(np.append(conf_sorted[1:] != conf_sorted[:-1], True))
    accuracy = hits[ends] / (ends + 1)
    reached = np.flatnonzero(accuracy >= target - 1e-12)
    return float(conf_sorted[ends[reached[-1]]]) if len(reached) else None


def abstention(
    validation_confidence: Sequence[float],
    validation_correct: Sequence[bool],
    test_confidence: Sequence[float],
    test_correct: Sequence[bool],
    *,
    target: float,
) -> dict:
    """A threshold chosen on validation for ``target`` accuracy, applied to test: coverage and accuracy there.

    ``held``: the test accuracy on answered items reaches the target (None when nothing was answered);
    ``shortfall``: by how much it misses (0 when it held).
    """
    val_conf, val_right = _arrays(validation_confidence, validation_correct)
    test_conf, test_right = _arrays(test_confidence, test_correct)
    threshold = choose_threshold(val_conf, val_right, target)
    answered_val = val_conf >= threshold if threshold is not None else np.zeros(len(val_conf), bool)
    answered = test_conf >= threshold if threshold is not None else np.zeros(len(test_conf), bool)
    accuracy = intervals.proportion(int(test_right[answered].sum()), int(answered.sum()))
    held = None if accuracy["value"] is None else bool(accuracy["value"] >= target - 1e-12)
    return {
        "target_accuracy": target,
        "threshold": threshold,
        "chosen_on": "validation",
        "validation": {
            "n": int(len(val_conf)),
            "coverage": float(answered_val.mean()) if len(val_conf) else None,
            "accuracy": float(val_right[answered_val].mean()) if answered_val.any() else None,
        },
        "coverage": intervals.proportion(int(answered.sum()), int(len(test_conf))),
        "accuracy": accuracy,
        "held": held,
        "shortfall": None if accuracy["value"] is None else max(0.0, target - accuracy["value"]),
    }
