"""Sparse retrieval: Okapi BM25 over word tokens, through ``bm25s``.

Words are lower-cased, English stop words dropped, no stemming (bm25s would
need PyStemmer for it). Scores come back for every entry, not just the top few,
so ranking, exclusion and fusion are done once, the same way for every
retriever (``harness.retrieval.search``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from harness.core.errors import require

FEATURE = "the 'bm25' retriever"


def _bm25s():
    return require("bm25s", package="bm25s", feature=FEATURE)


def tokenize(texts: list[str]) -> list[list[str]]:
    return _bm25s().tokenize(texts, lower=True, stopwords="en", return_ids=False, show_progress=False)


class BM25Index:
    name: ClassVar[str] = "bm25"
    settings: ClassVar[dict] = {
        "k1": 1.5,
        "b": 0.75,
        "method": "lucene",
        "lower": True,
        "stopwords": "en",
        "stemmer": None,
    }

    @classmethod
    def cache_settings(cls) -> dict:
        """Everything that changes the stored index or its scores: part of the cache key."""
        from importlib.metadata import version

        return {**cls.settings, "bm25s_version": version("bm25s"), "format": 1}

    def __init__(self, model, size: int):
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> "BM25Index":
        bm25s = _bm25s()
        model = bm25s.BM25(k1=cls.settings["k1"], b=cls.settings["b"], method=cls.settings["method"])
        model.index(tokenize(texts), show_progress=False)
        return cls(model, len(texts))

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)
        (folder / "size.txt").write_text(str(self.size))

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        model = _bm25s().BM25.load(str(folder), show_progress=False, verbosity=0)
        return cls(model, int((folder / "size.txt").read_text()))

    def scores(self, queries: list[str]) -> np.ndarray:
        """BM25 score of every entry for every query, shape (queries, entries)."""
        out = np.zeros((len(queries), self.size), dtype=np.float32)
        for row, tokens in enumerate(tokenize(queries)):
            ids = self._model.get_tokens_ids(tokens)  # words never seen in the corpus drop out
            if ids:
                out[row] = self._model.get_scores_from_ids(ids)
        return out
