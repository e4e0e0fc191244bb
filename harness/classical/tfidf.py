"""TF-IDF features and logistic regression: the classical baseline a fine-tune must beat.

Features are word 1-2-grams and character 2-5-grams taken inside word
boundaries (``char_wb``), each TF-IDF with sublinear term frequency and its own
L2 norm, side by side. Words carry the topic; character n-grams carry spelling
variants, inflections and codes that a tokenizer would split.

scikit-learn's ``TfidfVectorizer`` learns the vocabulary and idf weights; from
then on a vectorizer is only its settings, the vocabulary (term -> column) and
the idf array, and texts are featurised from those by hand (counts from a
``CountVectorizer`` given the fixed vocabulary, then sublinear tf, idf, L2 norm,
as ``TfidfTransformer`` does). The fitted and the loaded model run that same
code, which is why they agree exactly.

The grid (``TFIDF_GRID``, ten points, fixed) varies the regularisation C and
class weighting on the default features, then tries two smaller feature sets:
word unigrams only, and no character bigrams. A vectorizer is fitted once per
n-gram range and training subset, so the ten points cost four vectorizer fits
(two word, two character), not twenty.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from harness.classical.linear import LinearHead, fit_linear_head, import_sklearn
from harness.classical.model import ClassicalModel, FitRecord, check_fit_inputs
from harness.classical.selection import select_and_fit
from harness.core.errors import BenchError

KIND = "tfidf_logreg"
WORD_TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # sklearn's default: words of two or more word characters


def _point(word: tuple[int, int], char: tuple[int, int], C: float, class_weight: str | None) -> dict:
    return {"C": C, "class_weight": class_weight, "word_ngram_range": list(word), "char_ngram_range": list(char)}


# Ties after macro-F1 and log loss go to the earlier point, so sklearn's default C=1 comes first.
TFIDF_GRID: tuple[dict, ...] = (
    *(_point((1, 2), (2, 5), C, weight) for C in (1.0, 10.0, 100.0, 0.1) for weight in (None, "balanced")),
    _point((1, 1), (2, 5), 10.0, None),  # fewer, denser word features: for small training sets
    _point((1, 2), (3, 5), 10.0, None),  # no character bigrams, which mostly add noise on long documents
)


@dataclass(frozen=True)
class NgramTfidf:
    """One TF-IDF block as plain data: settings, vocabulary (term -> column) and idf."""

    analyzer: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (len(vocabulary),) float64
    lowercase: bool = True
    sublinear_tf: bool = True
    norm: str = "l2"

    @property
    def token_pattern(self) -> str | None:
        return WORD_TOKEN_PATTERN if self.analyzer == "word" else None

    @classmethod
    def fit(cls, texts: list[str], analyzer: str, ngram_range: Sequence[int]):
        """(the block, its training matrix) learned from ``texts``."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        vectorizer = TfidfVectorizer(
            analyzer=analyzer,
            ngram_range=ngram_range,
            lowercase=True,
            token_pattern=WORD_TOKEN_PATTERN if analyzer == "word" else None,
            sublinear_tf=True,
            norm="l2",
            smooth_idf=True,
            dtype=np.float64,
        )
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError as exc:  # sklearn's "empty vocabulary"
            raise BenchError(
                f"the training texts give no {analyzer} n-grams to learn from ({exc})",
                hint="check that the texts are not empty",
            ) from None
        vocabulary = {term: int(column) for term, column in sorted(vectorizer.vocabulary_.items(), key=lambda t: t[1])}
        block = cls(
            analyzer=analyzer,
            ngram_range=ngram_range,
            vocabulary=vocabulary,
            idf=np.ascontiguousarray(vectorizer.idf_, dtype=np.float64),
        )
        return block, matrix.tocsr()

    @functools.cached_property
    def _counter(self):
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(
            analyzer=self.analyzer,
            ngram_range=self.ngram_range,
            lowercase=self.lowercase,
            token_pattern=self.token_pattern,
            vocabulary=self.vocabulary,
            dtype=np.float64,
        )

    def transform(self, texts: list[str]):
        """(texts, vocabulary) sparse TF-IDF, computed from the stored arrays."""
        from sklearn.preprocessing import normalize

        matrix = self._counter.transform(texts).tocsr()
        if self.sublinear_tf:
            np.log(matrix.data, matrix.data)
            matrix.data += 1.0
        matrix.data *= self.idf[matrix.indices]
        return normalize(matrix, norm=self.norm, copy=False)

    def settings(self) -> dict:
        return {
            "analyzer": self.analyzer,
            "ngram_range": list(self.ngram_range),
            "lowercase": self.lowercase,
            "token_pattern": self.token_pattern,
            "sublinear_tf": self.sublinear_tf,
            "norm": self.norm,
            "vocabulary": self.vocabulary,
        }

    @classmethod
    def from_stored(cls, settings: dict, idf: np.ndarray) -> "NgramTfidf":
        vocabulary = {str(term): int(column) for term, column in settings["vocabulary"].items()}
        if sorted(vocabulary.values()) != list(range(len(idf))):
            raise BenchError(
                f"the {settings['analyzer']} vocabulary ({len(vocabulary)} terms) does not match its "
                f"idf array ({len(idf)} values)",
                hint="the saved model is damaged; fit and save it again",
            )
        return cls(
            analyzer=settings["analyzer"],
            ngram_range=tuple(settings["ngram_range"]),
            vocabulary=vocabulary,
            idf=idf,
            lowercase=bool(settings["lowercase"]),
            sublinear_tf=bool(settings["sublinear_tf"]),
            norm=settings["norm"],
        )


@dataclass(frozen=True)
class TfidfClassifier:
    word: NgramTfidf
    char: NgramTfidf
    head: LinearHead

    def features(self, texts: list[str]):
        import scipy.sparse

        return scipy.sparse.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")

    def probabilities(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.head.labels)))
        return self.head.probabilities(self.features(texts))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"word.idf": self.word.idf, "char.idf": self.char.idf, **self.head.arrays()}

    def settings(self) -> dict:
        return {
            "vectorizers": {"word": self.word.settings(), "char": self.char.settings()},
            "head": self.head.settings(),
        }

    @classmethod
    def from_stored(cls, labels: Sequence[str], settings: dict, arrays: dict[str, np.ndarray]) -> "TfidfClassifier":
        word = NgramTfidf.from_stored(settings["vectorizers"]["word"], arrays["word.idf"])
        char = NgramTfidf.from_stored(settings["vectorizers"]["char"], arrays["char.idf"])
        head = LinearHead.from_stored(labels, settings["head"], arrays)
        if head.n_features != len(word.idf) + len(char.idf):
            raise BenchError(
                f"the saved coefficients have {head.n_features} columns for {len(word.idf) + len(char.idf)} features",
                hint="fit and save the model again",
            )
        return cls(word=word, char=char, head=head)


def fit_tfidf(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    labels: Sequence[str],
    *,
    validation_texts: Sequence[str] | None = None,
    validation_labels: Sequence[str] | None = None,
    seed: int = 0,
) -> ClassicalModel:
    """TF-IDF + logistic regression, its settings chosen from ``TFIDF_GRID`` (see ``harness.classical.selection``)."""
    sklearn_version = import_sklearn()
    started = time.perf_counter()
    train_texts, train_labels, labels, validation_texts, validation_labels = check_fit_inputs(
        train_texts, train_labels, labels, validation_texts, validation_labels
    )
    vectorized: dict = {}  # (analyzer, ngram range, texts) -> (block, matrix): shared by grid points

    def block(texts: list[str], analyzer: str, ngram_range: Sequence[int]):
        key = (analyzer, tuple(ngram_range), tuple(texts))
        if key not in vectorized:
            vectorized[key] = NgramTfidf.fit(texts, analyzer, ngram_range)
        return vectorized[key]

    def fit_point(point: dict, texts: list[str], targets: list[str]) -> TfidfClassifier:
        import scipy.sparse

        word, word_matrix = block(texts, "word", point["word_ngram_range"])
        char, char_matrix = block(texts, "char_wb", point["char_ngram_range"])
        features = scipy.sparse.hstack([word_matrix, char_matrix], format="csr")
        head = fit_linear_head(features, targets, labels, C=point["C"], class_weight=point["class_weight"], seed=seed)
        return TfidfClassifier(word=word, char=char, head=head)

    classifier, selection = select_and_fit(
        TFIDF_GRID,
        fit_point,
        train_texts,
        train_labels,
        labels,
        validation_inputs=validation_texts,
        validation_targets=validation_labels,
        seed=seed,
    )
    record = FitRecord.of_fit(
        KIND,
        selection,
        TFIDF_GRID,
        classifier.head,
        started=started,
        train_items=len(train_texts),
        validation_items=len(validation_texts or []),
        seed=seed,
        sklearn_version=sklearn_version,
    )
    return ClassicalModel(KIND, labels, classifier, record)
