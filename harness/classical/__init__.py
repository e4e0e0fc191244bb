"""Classical and embedding classifiers: the cheap baselines every LLM variant is set beside.

A fine-tune is worth its cost only if it beats what a linear model gets in
seconds on the same items. Two kinds, both model-agnostic and pure library:

- ``fit_tfidf``: word and character TF-IDF + logistic regression;
- ``fit_embedding``: sentence embeddings (``minilm``, or the ``base_model``
  itself, mean-pooled) + logistic regression.

Both choose their few hyperparameters on the validation items from a small
fixed grid and return a ``ClassicalModel``: ``predict(texts)`` gives labels and
per-label probabilities in the task's label order, ``fit_record`` says what
was tried and chosen, ``size_bytes()`` the size on disk. ``save`` and ``load``
keep a model as safetensors arrays plus JSON, never pickle.

    model = fit_tfidf(train_texts, train_labels, labels,
                      validation_texts=val_texts, validation_labels=val_labels, seed=7)
    prediction = model.predict(test_texts)   # .labels, .probabilities, .label_order, .seconds
    save(model, workdir / "classical")
    same = load(workdir / "classical")
"""

from harness.classical.embedding import EMBEDDING_GRID, fit_embedding
from harness.classical.encoders import ENCODERS, BaseModelEncoder, Encoder, MiniLMEncoder, make_encoder
from harness.classical.model import KINDS, ClassicalModel, FitRecord, Prediction
from harness.classical.store import PICKLE_LIKE, load, save
from harness.classical.tfidf import TFIDF_GRID, fit_tfidf

__all__ = [
    "fit_tfidf",
    "fit_embedding",
    "save",
    "load",
    "make_encoder",
    "ClassicalModel",
    "Prediction",
    "FitRecord",
    "Encoder",
    "MiniLMEncoder",
    "BaseModelEncoder",
    "TFIDF_GRID",
    "EMBEDDING_GRID",
    "ENCODERS",
    "KINDS",
    "PICKLE_LIKE",
]
