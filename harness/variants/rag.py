"""Retrieval-augmented prompting: the base model shown the corpus entries nearest each item.

The question it answers is the one to ask before paying for a fine-tune: does
retrieval alone get there? The same retrieval on a trained variant
(``retrieval:`` on lora, qlora or full) makes "tuned + RAG" a row of the same
table. Everything about retrieval lives in ``harness.retrieval``; this kind only
names it in the suite and reports its figures with the variant's cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from harness.retrieval.config import RetrievalSpec
from harness.variants.base import Prepared, Variant, VariantConfig, register


class RagConfig(RetrievalSpec, VariantConfig):
    """``kind: rag`` with the retrieval settings at the top level: retriever, k, corpus, max_entry_words."""

    kind: Literal["rag"] = "rag"


@register
class Rag(Variant):
    kind = "rag"
    Config = RagConfig

    def retrieval_spec(self) -> RetrievalSpec:
        return self.config

    def prepare(self, workdir: Path) -> Prepared:
        return Prepared(cost=self.retrieval.prepare(workdir))
