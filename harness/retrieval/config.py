"""What a suite says about retrieval: which retriever, how many entries, from which corpus.

Used twice: flattened into a ``kind: rag`` variant, and nested as ``retrieval:``
on a trained variant (lora, qlora, full) for "tuned + RAG". This module imports
nothing heavy, so the suite schema can use it without pulling in bm25s or torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.core.config import Strict

RetrieverName = Literal["bm25", "dense", "hybrid"]


class CorpusFiles(Strict):
    """Reference documents kept outside the task data, path relative to the suite file."""

    path: str = Field(description="a folder of .txt/.md files, or a JSONL file of documents")
    format: Literal["folder", "jsonl"] = Field(
        description='folder: every .txt/.md file under path; jsonl: one {"text": ...} or {"messages": [...]} per line'
    )
    chunk_words: int = Field(
        default=200,
        ge=20,
        le=2000,
        description="folder files are split at blank lines into entries of at most this many words",
    )


class RetrievalSpec(Strict):
    retriever: RetrieverName = Field(
        default="bm25", description="bm25 (sparse), dense (all-MiniLM-L6-v2) or hybrid (both, fused)"
    )
    k: int = Field(default=4, ge=1, le=32, description="entries placed in each prompt")
    corpus: Literal["train"] | CorpusFiles = Field(
        default="train",
        description="'train': the training split as labelled examples; or {path:, format:} for documents",
    )
    max_entry_words: int = Field(
        default=150, ge=10, le=4000, description="each retrieved entry is cut to this many words in the prompt"
    )
    labelled_as: Literal["demonstrations", "reference"] = Field(
        default="demonstrations",
        description="labelled entries as chat turns before the item (demonstrations) or inside the reference block; "
        "documents are always in the reference block",
    )
