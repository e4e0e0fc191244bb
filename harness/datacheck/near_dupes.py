"""Text similarity by word n-gram shingles, computed exactly with sparse matrices.

A text becomes the set of its word n-grams (lower-cased, punctuation dropped;
a text shorter than n words is one shingle). Two measures:

- **Jaccard** |A∩B| / |A∪B|: symmetric, for near-duplicates within a split;
- **containment** |A∩B| / |A|: how much of A appears in B, for leakage, since
  a test item copied into a longer training item is still leaked.

Intersections come from one sparse product (rows: texts, columns: shingles),
taken in row blocks so memory stays bounded. The vocabulary is exact (no
hashing), so scores are exact. Every pair sharing a shingle is visited, so
cost grows with n_a * n_b for template-heavy data: tens of thousands of items
per split take seconds; for millions, use MinHash LSH instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

WORD = re.compile(r"\w+")
PAIRS_PER_BLOCK = 4_000_000  # bound on the intersections held in memory at once


@dataclass(frozen=True)
class Pair:
    a: int  # index into the first list
    b: int  # index into the second list (or the first, for pairs within one list)
    score: float


def shingles(text: str, n: int) -> list[str]:
    words = WORD.findall(text.lower())
    if len(words) <= n:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def _matrices(texts_a: list[str], texts_b: list[str], n: int):
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=lambda text: shingles(text, n), binary=True, dtype=np.int32)
    try:
        both = vectorizer.fit_transform(texts_a + texts_b).tocsr()
    except ValueError:  # no text has a single word: nothing can match
        return None, None
    return both[: len(texts_a)], both[len(texts_a) :]


def near_duplicate_pairs(texts: list[str], *, n: int, threshold: float) -> list[Pair]:
    """Pairs (i < j) within ``texts`` whose Jaccard similarity is at least ``threshold``."""
    matrix, _ = _matrices(texts, [], n)
    if matrix is None:
        return []
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    pairs = []
    for start, stop, inter in _blocks(matrix, matrix):
        rows, cols, shared = inter.row + start, inter.col, inter.data
        keep = rows < cols
        rows, cols, shared = rows[keep], cols[keep], shared[keep]
        union = sizes[rows] + sizes[cols] - shared
        scores = np.divide(shared, union, out=np.zeros(len(shared)), where=union > 0)
        pairs += [Pair(int(i), int(j), float(s)) for i, j, s in zip(rows, cols, scores) if s >= threshold]
    return sorted(pairs, key=lambda p: (p.a, p.b))


def contained_pairs(texts_a: list[str], texts_b: list[str], *, n: int, threshold: float) -> list[Pair]:
    """Pairs (i, j) where at least ``threshold`` of text_a[i]'s shingles occur in texts_b[j]."""
    if not texts_a or not texts_b:
        return []
    matrix_a, matrix_b = _matrices(texts_a, texts_b, n)
    if matrix_a is None:
        return []
    sizes = np.asarray(matrix_a.sum(axis=1)).ravel()
    pairs = []
    for start, stop, inter in _blocks(matrix_a, matrix_b):
        rows, cols, shared = inter.row + start, inter.col, inter.data
        scores = np.divide(shared, sizes[rows], out=np.zeros(len(shared)), where=sizes[rows] > 0)
        pairs += [Pair(int(i), int(j), float(s)) for i, j, s in zip(rows, cols, scores) if s >= threshold]
    return sorted(pairs, key=lambda p: (p.a, p.b))


def _blocks(left, right):
    """(start, stop, left[start:stop] @ right.T as COO): shared-shingle counts, a block of rows at a time."""
    step = max(1, PAIRS_PER_BLOCK // max(right.shape[0], 1))
    right_t = right.T.tocsc()
    for start in range(0, left.shape[0], step):
        stop = min(start + step, left.shape[0])
        yield start, stop, (left[start:stop] @ right_t).tocoo()
