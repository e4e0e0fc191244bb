"""Hybrid retrieval: BM25 and dense rankings fused by reciprocal rank (Cormack et al., 2009).

RRF adds 1 / (C + rank) over the retrievers, so an entry both find near the top
wins, and the two retrievers' incomparable score scales never meet. Tied scores
share a rank (an entry BM25 gives 0 is no better than another it gives 0).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

RRF_CONSTANT = 60  # the value from the paper; it damps the weight of the very first ranks


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every entry in every row, highest score first; ties share the best rank."""
    from scipy.stats import rankdata

    return rankdata(-scores, method="min", axis=1)


def reciprocal_rank_fusion(score_matrices: list[np.ndarray], constant: int = RRF_CONSTANT) -> np.ndarray:
    return sum(1.0 / (constant + ranks(scores)) for scores in score_matrices)


class HybridIndex:
    """Built from the cached BM25 and dense indexes; it stores nothing of its own."""

    name: ClassVar[str] = "hybrid"

    def __init__(self, parts: list):
        self.parts = parts
        self.size = parts[0].size

    def scores(self, queries: list[str]) -> np.ndarray:
        return reciprocal_rank_fusion([part.scores(queries) for part in self.parts])
