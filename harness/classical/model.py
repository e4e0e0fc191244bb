"""A fitted classical classifier, what it predicts, and how its fit went.

``ClassicalModel`` is the one object callers hold, whatever the kind: it turns
texts into predicted labels and per-label probabilities, carries the fit record
(what the grid tried, what it chose, how long it took), and serialises itself to
the two files a saved model is (``model.safetensors`` and ``classical.json``).
Knowing those bytes here is what lets ``size_bytes()`` be exactly the size on
disk, before anything is written. Peak memory is left to the caller, who
already measures each stage (``harness.run.cost.Measure``, a layer above this one).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Protocol, Sequence

import numpy as np

from harness.classical.linear import predicted_labels
from harness.core.errors import BenchError, Problem

FORMAT = "bench-classical"
FORMAT_VERSION = 1
KINDS = ("tfidf_logreg", "embedding_logreg")
WEIGHTS_FILE = "model.safetensors"
SETTINGS_FILE = "classical.json"


class Classifier(Protocol):
    """What a kind provides: probabilities for texts, and itself as arrays plus JSON settings."""

    def probabilities(self, texts: Sequence[str]) -> np.ndarray: ...

    def arrays(self) -> dict[str, np.ndarray]: ...

    def settings(self) -> dict: ...


@dataclass(frozen=True)
class Prediction:
    labels: list[str]  # the predicted label of each text: the arg-max of its row, ties to the earlier label
    probabilities: np.ndarray  # (texts, len(label_order)) float64; rows sum to 1; 0 for labels absent from training
    label_order: tuple[str, ...]  # the columns of `probabilities`: the task's labels as given to fit
    seconds: float  # wall time of the whole predict call (featurising included), time.perf_counter


@dataclass(frozen=True)
class FitRecord:
    kind: str
    selection: str  # "validation", "stratified_kfold", "default" (too few items to fold) or "single_class"
    folds: int | None  # k of the k-fold selection; None otherwise
    chosen: dict  # the hyperparameters of the fitted model
    chosen_index: int  # its position in the grid
    grid: list[dict] = field(default_factory=list)  # per point: hyperparameters, macro_f1, log_loss, accuracy
    metric: str = "macro_f1"  # ties then go to the lower log loss, then to the earlier grid point
    train_items: int = 0
    validation_items: int = 0
    n_features: int = 0
    converged: bool = True  # lbfgs reached its tolerance for the chosen model
    seed: int = 0
    fit_seconds: float = 0.0  # everything fit did: encoding, selection and the final fit
    encode_seconds: float | None = None  # of fit_seconds, the part spent embedding texts (embedding kind only)
    sklearn_version: str = ""

    @classmethod
    def of_fit(cls, kind: str, selection, grid: Sequence[dict], head, *, started: float, **counts) -> "FitRecord":
        """The record of a finished fit: what selection chose from ``grid``, the fitted linear
        ``head``, seconds since ``started``; ``counts`` are the remaining fields (items, seed, versions)."""
        return cls(
            kind=kind,
            selection=selection.method,
            folds=selection.folds,
            chosen=dict(grid[selection.chosen_index]),
            chosen_index=selection.chosen_index,
            grid=selection.grid,
            n_features=head.n_features,
            converged=head.converged,
            fit_seconds=time.perf_counter() - started,
            **counts,
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FitRecord":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class ClassicalModel:
    def __init__(self, kind: str, labels: Sequence[str], classifier: Classifier, fit_record: FitRecord):
        self.kind = kind
        self.labels = tuple(labels)
        self.classifier = classifier
        self.fit_record = fit_record

    @property
    def hyperparameters(self) -> dict:
        return dict(self.fit_record.chosen)

    def predict(self, texts: Sequence[str]) -> Prediction:
        texts = check_texts(texts, "texts")
        started = time.perf_counter()
        probabilities = self.classifier.probabilities(texts)
        labels = predicted_labels(probabilities, self.labels)
        return Prediction(
            labels=labels, probabilities=probabilities, label_order=self.labels, seconds=time.perf_counter() - started
        )

    def settings(self) -> dict:
        """The whole of ``classical.json``."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "labels": list(self.labels),
            "hyperparameters": self.hyperparameters,
            **self.classifier.settings(),
            "fit": self.fit_record.to_dict(),
        }

    def files(self) -> dict[str, bytes]:
        """File name -> the bytes a saved model holds; ``harness.classical.store.save`` writes exactly these."""
        from safetensors.numpy import save

        arrays = {name: np.ascontiguousarray(a) for name, a in self.classifier.arrays().items()}
        weights = save(arrays, metadata={"format": FORMAT, "kind": self.kind})
        text = json.dumps(self.settings(), indent=1) + "\n"  # ASCII-escaped: any n-gram survives the round trip
        return {WEIGHTS_FILE: weights, SETTINGS_FILE: text.encode("utf-8")}

    def size_bytes(self) -> int:
        """The model's size on disk: the two saved files, vocabularies included."""
        return sum(len(b) for b in self.files().values())

    def __repr__(self) -> str:
        return f"ClassicalModel(kind={self.kind!r}, labels={list(self.labels)!r}, chosen={self.hyperparameters!r})"


def check_texts(texts: Sequence[str], what: str) -> list[str]:
    if isinstance(texts, str):
        raise BenchError(f"{what} must be a list of texts, not one string")
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise BenchError(f"{what}[{bad}] is {type(texts[bad]).__name__}, expected a string")
    return texts


def check_fit_inputs(train_texts, train_labels, labels, validation_texts, validation_labels):
    """Every problem with the inputs at once, before anything is fitted."""
    labels = list(labels)
    problems: list[Problem] = []

    def problem(field_name: str, message: str) -> Problem:
        return Problem(file=None, line=None, field=field_name, message=message)

    if not labels:
        problems.append(problem("labels", "is empty: give the task's label list"))
    if len(set(labels)) != len(labels):
        problems.append(problem("labels", f"has duplicates: {labels}"))
    train_texts = check_texts(train_texts, "train_texts")
    train_labels = list(train_labels)
    if not train_texts:
        problems.append(problem("train_texts", "is empty"))
    if len(train_texts) != len(train_labels):
        problems.append(problem("train_labels", f"has {len(train_labels)} labels for {len(train_texts)} texts"))
    unknown = sorted({str(y) for y in train_labels} - set(labels))
    if unknown:
        problems.append(problem("train_labels", f"has labels not in labels: {unknown}"))
    if (validation_texts is None) != (validation_labels is None):
        problems.append(
            problem("validation_labels", "give validation_texts and validation_labels together, or neither")
        )
    if validation_texts is not None and validation_labels is not None:
        validation_texts = check_texts(validation_texts, "validation_texts")
        validation_labels = list(validation_labels)
        if len(validation_texts) != len(validation_labels):
            problems.append(
                problem("validation_labels", f"has {len(validation_labels)} labels for {len(validation_texts)} texts")
            )
        unknown = sorted({str(y) for y in validation_labels} - set(labels))
        if unknown:
            problems.append(problem("validation_labels", f"has labels not in labels: {unknown}"))
        if not validation_texts:  # an empty validation set means "none": select on train by k-fold
            validation_texts = validation_labels = None
    if problems:
        raise BenchError(
            "cannot fit a classical classifier",
            problems=problems,
            hint="labels are the task's label list; every train and validation label must be in it",
        )
    return train_texts, train_labels, labels, validation_texts, validation_labels
