"""The logistic-regression head every classical classifier ends in, kept as plain arrays.

scikit-learn fits it; after that it is only ``coef``, ``intercept`` and the class
names, and probabilities are computed here from those arrays with the same
arithmetic as ``LogisticRegression.predict_proba`` (a sigmoid for two classes,
a softmax for more). So a loaded model needs no estimator object, and no pickle,
to predict exactly as the fitted one did.

Probabilities are spread over the task's full label list: a label the training
data never showed gets probability 0, and since the trained classes' probabilities
sum to 1 the arg-max can never land on it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAX_ITER = 2000  # lbfgs on wide sparse TF-IDF needs more than sklearn's 100; non-convergence is recorded


@dataclass(frozen=True)
class LinearHead:
    labels: tuple[str, ...]  # the task's labels: the columns of every probability matrix
    classes: tuple[str, ...]  # the labels seen in training, in the order of coef's rows (sorted, as sklearn keeps them)
    coef: np.ndarray  # (1, features) for two classes or one, (classes, features) for more; float64
    intercept: np.ndarray  # (rows of coef,)
    converged: bool = True

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    def class_probabilities(self, features) -> np.ndarray:
        """(n, len(classes)): exactly sklearn's predict_proba, from the arrays alone."""
        n = features.shape[0]
        if len(self.classes) == 1:  # one class in training: it is the only possible answer
            return np.ones((n, 1))
        decision = np.asarray(features @ self.coef.T, dtype=np.float64) + self.intercept
        if len(self.classes) == 2:
            positive = 1.0 / (1.0 + np.exp(-decision[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        decision = decision - decision.max(axis=1, keepdims=True)
        exp = np.exp(decision)
        return exp / exp.sum(axis=1, keepdims=True)

    def probabilities(self, features) -> np.ndarray:
        """(n, len(labels)) in the task's label order; labels absent from training are 0."""
        spread = np.zeros((features.shape[0], len(self.labels)))
        columns = [self.labels.index(c) for c in self.classes]
        spread[:, columns] = self.class_probabilities(features)
        return spread

    def arrays(self) -> dict[str, np.ndarray]:
        return {"head.coef": self.coef, "head.intercept": self.intercept}

    def settings(self) -> dict:
        return {"classes": list(self.classes), "converged": self.converged}

    @classmethod
    def from_stored(cls, labels: Sequence[str], settings: dict, arrays: dict[str, np.ndarray]) -> "LinearHead":
        return cls(
            labels=tuple(labels),
            classes=tuple(settings["classes"]),
            coef=arrays["head.coef"],
            intercept=arrays["head.intercept"],
            converged=bool(settings.get("converged", True)),
        )


def predicted_labels(probabilities: np.ndarray, labels: Sequence[str]) -> list[str]:
    """Arg-max in the task's label order (ties go to the earlier label); never a label with probability 0."""
    return [labels[k] for k in np.argmax(probabilities, axis=1)] if len(probabilities) else []


def import_sklearn() -> str:
    """Import what fitting uses, so a fit's recorded seconds measure fitting, not a first import; the version."""
    import sklearn
    import sklearn.feature_extraction.text
    import sklearn.linear_model
    import sklearn.metrics
    import sklearn.model_selection
    import threadpoolctl  # noqa: F401

    return sklearn.__version__


def fit_linear_head(
    features, targets: Sequence[str], labels: Sequence[str], *, C: float, class_weight: str | None, seed: int
) -> LinearHead:
    """L2 logistic regression by lbfgs, on one thread so the coefficients do not depend on the machine's cores."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    classes = sorted(set(targets))
    if len(classes) == 1:  # LogisticRegression refuses one class; the answer is that class, always
        return LinearHead(
            labels=tuple(labels), classes=(classes[0],), coef=np.zeros((1, features.shape[1])), intercept=np.zeros(1)
        )
    estimator = LogisticRegression(C=C, class_weight=class_weight, solver="lbfgs", max_iter=MAX_ITER, random_state=seed)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # recorded in `converged` instead of printed
        estimator.fit(features, np.asarray(targets, dtype=object))
    converged = bool(np.all(np.asarray(estimator.n_iter_) < MAX_ITER))
    return LinearHead(
        labels=tuple(labels),
        classes=tuple(str(c) for c in estimator.classes_),
        coef=np.ascontiguousarray(estimator.coef_, dtype=np.float64),
        intercept=np.ascontiguousarray(estimator.intercept_, dtype=np.float64),
        converged=converged,
    )
