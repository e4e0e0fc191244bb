"""Choosing a classifier's few hyperparameters from a small fixed grid.

Every grid point is fitted on the training items and scored on the validation
items by macro-F1 over the task's labels (bench's headline metric; a label with
no gold and no prediction scores 0). The best score wins; ties go to the lower
validation log loss (the better-calibrated model), then to the earlier grid
point, so the choice is a pure function of the data and the seed.

The model kept is the winner as fitted on the training items alone, which is
the "refit on train" of this scheme at no extra cost. Train only, not train plus
validation, because the fine-tuned variants this baseline sits beside learn
their weights from train and use validation only to choose: fitting the
baseline on more items than they see would tilt the comparison.

Without validation items, the grid is scored on the training items by a
stratified k-fold (k = 3, or the size of the smallest class if that is smaller;
shuffled with the seed) on out-of-fold predictions, and the winner is then
refitted on all training items. When a class has a single item no fold can
hold it out and score it, so the grid's first point (the defaults) is used
unchanged and the record says ``selection: default``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

MAX_FOLDS = 3
LOG_LOSS_FLOOR = 1e-15  # a gold label given probability 0 (absent from training) costs log(1e15), not infinity


@dataclass(frozen=True)
class Selection:
    method: str  # "validation", "stratified_kfold", "default" or "single_class"
    folds: int | None
    grid: list[dict]  # per point scored: hyperparameters, macro_f1, log_loss, accuracy
    chosen_index: int


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(list(gold), list(predicted), labels=list(labels), average="macro", zero_division=0))


def log_loss(gold: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> float:
    columns = [list(labels).index(g) for g in gold]
    gold_probability = probabilities[np.arange(len(columns)), columns]
    return float(-np.mean(np.log(np.clip(gold_probability, LOG_LOSS_FLOOR, 1.0))))


def score(gold: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]) -> dict:
    predicted = [labels[k] for k in np.argmax(probabilities, axis=1)]
    return {
        "macro_f1": macro_f1(gold, predicted, labels),
        "log_loss": log_loss(gold, probabilities, labels),
        "accuracy": float(np.mean([p == g for p, g in zip(predicted, gold)])),
    }


def best_index(scored: Sequence[dict]) -> int:
    """Highest macro-F1, then lowest log loss, then earliest point."""
    return min(range(len(scored)), key=lambda i: (-scored[i]["macro_f1"], scored[i]["log_loss"], i))


def stratified_folds(targets: Sequence[str], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, held-out indices) per fold; empty when a class is too small to split."""
    from sklearn.model_selection import StratifiedKFold

    k = min(MAX_FOLDS, min(Counter(targets).values()))
    if k < 2:
        return []
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(targets)), np.asarray(targets, dtype=object)))


def take(inputs, indices: np.ndarray):
    """Rows of a list of texts or of an array of vectors."""
    return inputs[indices] if isinstance(inputs, np.ndarray) else [inputs[i] for i in indices]


def select_and_fit(
    grid: Sequence[dict],
    fit: Callable[[dict, Any, list[str]], Any],
    inputs,
    targets: list[str],
    labels: Sequence[str],
    *,
    validation_inputs=None,
    validation_targets: list[str] | None = None,
    seed: int,
) -> tuple[Any, Selection]:
    """The fitted winner and how it was chosen.

    ``fit(point, inputs, targets)`` returns a model with ``probabilities(inputs)``
    of shape (n, len(labels)); ``inputs`` are texts or vectors, whatever ``fit`` takes.
    """
    if len(set(targets)) == 1:  # nothing to choose: the model answers the one class whatever its settings
        return fit(grid[0], inputs, targets), Selection("single_class", None, [], 0)
    if validation_inputs is not None:
        return _on_validation(grid, fit, inputs, targets, labels, validation_inputs, validation_targets)
    folds = stratified_folds(targets, seed)
    if not folds:
        return fit(grid[0], inputs, targets), Selection("default", None, [], 0)
    scored = []
    for point in grid:
        out_of_fold = np.zeros((len(targets), len(labels)))
        for train_rows, held_rows in folds:
            model = fit(point, take(inputs, train_rows), [targets[i] for i in train_rows])
            out_of_fold[held_rows] = model.probabilities(take(inputs, held_rows))
        scored.append({"hyperparameters": dict(point), **score(targets, out_of_fold, labels)})
    chosen = best_index(scored)
    return fit(grid[chosen], inputs, targets), Selection("stratified_kfold", len(folds), scored, chosen)


def _on_validation(grid, fit, inputs, targets, labels, validation_inputs, validation_targets):
    scored, best_model = [], None
    for point in grid:
        model = fit(point, inputs, targets)
        scored.append(
            {
                "hyperparameters": dict(point),
                **score(validation_targets, model.probabilities(validation_inputs), labels),
            }
        )
        if best_index(scored) == len(scored) - 1:  # keep only the best so far: one model in memory, no refit
            best_model = model
    return best_model, Selection("validation", None, scored, best_index(scored))
