"""Sentence embeddings and logistic regression: a linear probe on a frozen encoder.

Texts are embedded once (train and validation), then standardised with the
training mean and standard deviation before the regression. Standardising is
why one C grid serves both encoders: MiniLM's unit vectors have tiny
coordinates, a causal LM's hidden states have a few huge ones, and lbfgs
converges badly on either unscaled. The scaler's two arrays are saved with the
coefficients; the encoder is saved only as its description.

The grid (``EMBEDDING_GRID``) is the regularisation C alone, five points a
decade apart; selection as in ``harness.classical.selection``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from harness.classical.encoders import Encoder, MiniLMEncoder
from harness.classical.linear import LinearHead, fit_linear_head, import_sklearn
from harness.classical.model import ClassicalModel, FitRecord, check_fit_inputs
from harness.classical.selection import select_and_fit
from harness.core.errors import BenchError

KIND = "embedding_logreg"
EMBEDDING_GRID: tuple[dict, ...] = tuple({"C": C} for C in (0.01, 0.1, 1.0, 10.0, 100.0))


@dataclass(frozen=True)
class VectorClassifier:
    """Standardise, then the linear head: the part of the model that works on vectors."""

    mean: np.ndarray  # (dimension,) float64
    scale: np.ndarray  # (dimension,) float64; a constant coordinate gets 1, as in sklearn's StandardScaler
    head: LinearHead

    @classmethod
    def fit(
        cls, vectors: np.ndarray, targets: list[str], labels: Sequence[str], *, C: float, seed: int
    ) -> "VectorClassifier":
        mean = vectors.mean(axis=0)
        scale = vectors.std(axis=0)
        scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
        head = fit_linear_head((vectors - mean) / scale, targets, labels, C=C, class_weight=None, seed=seed)
        return cls(mean=mean, scale=scale, head=head)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return self.head.probabilities((vectors - self.mean) / self.scale)


@dataclass(frozen=True)
class EmbeddingClassifier:
    encoder: Encoder
    vectors: VectorClassifier

    @property
    def head(self) -> LinearHead:
        return self.vectors.head

    def probabilities(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.vectors.head.labels)))
        embedded = np.asarray(self.encoder.encode(texts), dtype=np.float64)
        if embedded.shape[1] != len(self.vectors.mean):
            raise BenchError(
                f"the {self.encoder.name} encoder gives {embedded.shape[1]} numbers per text; this "
                f"classifier was fitted on {len(self.vectors.mean)}",
                hint="load the classifier with the encoder it was fitted with",
            )
        return self.vectors.probabilities(embedded)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"scaler.mean": self.vectors.mean, "scaler.scale": self.vectors.scale, **self.vectors.head.arrays()}

    def settings(self) -> dict:
        return {"encoder": self.encoder.describe(), "head": self.vectors.head.settings()}

    @classmethod
    def from_stored(
        cls, labels: Sequence[str], settings: dict, arrays: dict[str, np.ndarray], encoder: Encoder | None
    ) -> "EmbeddingClassifier":
        stored = settings["encoder"]["name"]
        if encoder is None:
            if stored != "minilm":
                raise BenchError(
                    f"this classifier embeds texts with the {stored!r} encoder, which is not saved with it",
                    hint="load(folder, encoder=BaseModelEncoder(model, tokenizer))",
                )
            encoder = MiniLMEncoder()
        if encoder.name != stored:
            raise BenchError(
                f"this classifier was fitted on the {stored!r} encoder, not {encoder.name!r}",
                hint=f"pass the {stored!r} encoder to load",
            )
        head = LinearHead.from_stored(labels, settings["head"], arrays)
        mean, scale = arrays["scaler.mean"], arrays["scaler.scale"]
        if not (head.n_features == len(mean) == len(scale)):
            raise BenchError(
                f"the saved scaler ({len(mean)}, {len(scale)}) and coefficients ({head.n_features}) "
                "disagree on the embedding size",
                hint="fit and save the model again",
            )
        return cls(encoder=encoder, vectors=VectorClassifier(mean=mean, scale=scale, head=head))


def fit_embedding(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    labels: Sequence[str],
    *,
    encoder: Encoder,
    validation_texts: Sequence[str] | None = None,
    validation_labels: Sequence[str] | None = None,
    seed: int = 0,
) -> ClassicalModel:
    """Logistic regression on ``encoder``'s embeddings, C chosen from ``EMBEDDING_GRID``."""
    sklearn_version = import_sklearn()
    started = time.perf_counter()
    train_texts, train_labels, labels, validation_texts, validation_labels = check_fit_inputs(
        train_texts, train_labels, labels, validation_texts, validation_labels
    )
    train_vectors = np.asarray(encoder.encode(train_texts), dtype=np.float64)
    validation_vectors = (
        np.asarray(encoder.encode(validation_texts), dtype=np.float64) if validation_texts is not None else None
    )
    encode_seconds = time.perf_counter() - started

    def fit_point(point: dict, vectors: np.ndarray, targets: list[str]) -> VectorClassifier:
        return VectorClassifier.fit(vectors, targets, labels, C=point["C"], seed=seed)

    vectors, selection = select_and_fit(
        EMBEDDING_GRID,
        fit_point,
        train_vectors,
        train_labels,
        labels,
        validation_inputs=validation_vectors,
        validation_targets=validation_labels,
        seed=seed,
    )
    record = FitRecord.of_fit(
        KIND,
        selection,
        EMBEDDING_GRID,
        vectors.head,
        started=started,
        train_items=len(train_texts),
        validation_items=len(validation_texts or []),
        seed=seed,
        encode_seconds=encode_seconds,
        sklearn_version=sklearn_version,
    )
    return ClassicalModel(KIND, labels, EmbeddingClassifier(encoder=encoder, vectors=vectors), record)
