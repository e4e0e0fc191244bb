"""Classification metrics: accuracy, macro-F1, per-class, confusion, format compliance.

Input is the per-item rows (gold label, predicted label or None, format_ok);
output is a JSON-ready dict where every headline metric carries a 95% interval.
An unreadable output is its own column, ``<invalid>``, in the confusion matrix
and counts as a miss for every class.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from harness.stats import intervals
from harness.tasks.classification import INVALID


def score_classification(gold: Sequence[str], predicted: Sequence[str | None], format_ok: Sequence[bool],
                         labels: Sequence[str], *, seed: int = 0) -> dict:
    gold_arr = np.asarray(gold, dtype=object)
    pred_arr = np.asarray([p if p is not None else INVALID for p in predicted], dtype=object)
    n = len(gold_arr)
    correct = int((gold_arr == pred_arr).sum())
    valid = int((pred_arr != INVALID).sum())
    label_list = list(labels)

    def macro_f1(idx: np.ndarray) -> float:
        return float(f1_score(gold_arr[idx], pred_arr[idx], labels=label_list, average="macro", zero_division=0))

    precision, recall, f1, support = precision_recall_fscore_support(
        gold_arr, pred_arr, labels=label_list, zero_division=0)
    columns = label_list + [INVALID]
    matrix = confusion_matrix(gold_arr, pred_arr, labels=columns) if n else np.zeros((len(columns),) * 2, int)
    return {
        "accuracy": intervals.proportion(correct, n),
        "macro_f1": intervals.bootstrap(macro_f1, n, seed=seed),
        "format_compliance": intervals.proportion(int(np.sum(format_ok)), n),
        "invalid_rate": intervals.proportion(n - valid, n),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(label_list, precision, recall, f1, support)
        },
        # rows: gold labels (the invalid row stays empty); columns: predictions incl. <invalid>
        "confusion": {"labels": columns, "matrix": matrix[: len(label_list)].tolist()},
    }
