"""Every metric a rule may name, computed from per-item rows, so paired tests can resample items.

Two kinds, after what the per-item row holds:
- **binary**: one yes/no per item, and the metric is their share: accuracy
  (``correct``), format compliance (``format_ok``), parse rate (``parse_ok``).
  Exact paired tests apply (McNemar, Tango).
- **resampled**: the metric is a function of per-item parts summed over items,
  ``combine(weights @ parts)``: macro-F1 of labels, field F1 of per-field
  counts, the mean of a per-item score (ROUGE-L, chrF). A bootstrap resample is
  a row of weights and a permutation a swap mask, both one matrix product.

The report's paired comparisons use the same parts, so its deltas and the
gate's agree on what a metric is.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.core.errors import BenchError
from harness.stats import paired as stats

BINARY = {"accuracy": "correct", "format_compliance": "format_ok", "parse_rate": "parse_ok"}
SCORES = {"rouge_l": "rouge_l", "chrf": "chrf"}  # metric -> per-item score whose mean it is
FIELD_F1 = ("field_f1_micro", "field_f1_macro")
NEEDS = {**BINARY, **SCORES, **{metric: "field_counts" for metric in FIELD_F1}}  # metric -> per-item key it reads


def is_binary(metric: str) -> bool:
    return metric in BINARY


def require_rows(metric: str, rows: Sequence[dict], where: str) -> None:
    """A typed error, naming the missing per-item key, instead of a KeyError deep in a test."""
    key = NEEDS.get(metric)
    if key and any(row.get(key) is None for row in rows):
        raise BenchError(f"{where} has per-item rows without '{key}', which {metric} is computed from",
                         hint="save the baseline again (bench baseline save RUN_DIR --variant NAME) "
                              "from a run made with this version of bench")


def outcome(metric: str, rows: Sequence[dict]) -> np.ndarray:
    """Per-item yes/no of a binary metric."""
    return np.array([bool(row.get(BINARY[metric])) for row in rows], dtype=bool)


def parts(metric: str, rows: Sequence[dict], labels: Sequence[str] = ()) -> tuple[np.ndarray, stats.Combine]:
    """(items x m parts, combine) with ``combine(parts.sum(0, keepdims=True))[0]`` the metric on all items."""
    if metric == "macro_f1":
        return (stats.macro_f1_parts([r.get("gold") for r in rows], [r.get("parsed") for r in rows], labels),
                stats.macro_f1_from_sums)
    if metric in FIELD_F1:
        counts = field_counts(rows)  # items x fields x (tp, fp, fn)
        per_field = np.concatenate([counts[:, :, 0], 2 * counts[:, :, 0] + counts[:, :, 1] + counts[:, :, 2]], axis=1)
        if metric == "field_f1_micro":
            return per_field.reshape(len(rows), 2, -1).sum(axis=2), field_f1_from_sums
        return per_field, field_f1_from_sums
    if metric in BINARY or metric in SCORES:
        values = outcome(metric, rows).astype(float) if metric in BINARY else np.array(
            [float(row[SCORES[metric]]) for row in rows])
        return np.column_stack([values, np.ones(len(rows))]), mean_from_sums
    raise ValueError(f"no per-item parts for metric {metric!r}")


def field_counts(rows: Sequence[dict]) -> np.ndarray:
    """Per item, per field (in the first row's order): [true positives, false positives, false negatives]."""
    if not rows:
        return np.zeros((0, 0, 3))
    fields = list(rows[0]["field_counts"])
    return np.array([[row["field_counts"].get(f, (0, 0, 0)) for f in fields] for row in rows], dtype=float)


def field_f1_from_sums(sums: np.ndarray) -> np.ndarray:
    """Mean F1 over the field columns of summed [tp..., 2tp + fp + fn...]; one column pair is micro F1.

    A field empty in gold and prediction alike scores 1, as in harness.scoring.extraction.
    """
    k = sums.shape[1] // 2
    true_pos, denominator = sums[:, :k], sums[:, k:]
    f1 = np.divide(2 * true_pos, denominator, out=np.ones_like(true_pos), where=denominator > 0)
    return f1.mean(axis=1)


def mean_from_sums(sums: np.ndarray) -> np.ndarray:
    """Summed [value, 1] -> the (weighted) mean value."""
    return np.divide(sums[:, 0], sums[:, 1], out=np.zeros(len(sums)), where=sums[:, 1] > 0)
