"""Top-k search over any index that scores every entry: one ranking rule for all retrievers.

Ranking is by score, highest first, ties broken by corpus order, so a ranking is
the same on every machine and every run. Entries can be excluded per query (an
item must never retrieve itself, see ``RetrievalAugmenter``).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

QUERY_CHUNK = 256  # queries scored at once: bounds the (queries x entries) score matrix


def top_k(scores: np.ndarray, k: int, exclude: Iterable[int] = ()) -> list[int]:
    scores = scores.astype(np.float64, copy=True)
    excluded = list(exclude)
    if excluded:
        scores[excluded] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(i) for i in order if scores[i] != -np.inf]


def search(index, queries: list[str], k: int, exclude: list[set[int]] | None = None) -> list[list[int]]:
    """Entry positions of the top ``k`` for every query."""
    results: list[list[int]] = []
    for start in range(0, len(queries), QUERY_CHUNK):
        chunk = queries[start : start + QUERY_CHUNK]
        matrix = index.scores(chunk)
        for offset, row in enumerate(matrix):
            results.append(top_k(row, k, exclude[start + offset] if exclude else ()))
    return results
