"""Indexes built once and found again by content: corpus fingerprint + retriever settings.

An index lives in ``<cache>/indexes/<retriever>-<key>/`` (``BENCH_CACHE`` moves
the cache, as it does for models). Within one process an index is also kept in
memory, so several variants of a run that search the same corpus (a BM25 rag
baseline, a hybrid one, a tuned model with retrieval) build and load it once.
A folder is written under a temporary name and renamed when complete, so a
killed build never leaves a half index that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from harness.retrieval.corpus import Corpus

_IN_MEMORY: dict[Path, object] = {}


def default_root() -> Path:
    from harness.model.provision import cache_root

    return cache_root() / "indexes"


@dataclass(frozen=True)
class Opened:
    index: object
    how: str  # "built", "disk" (built by an earlier run) or "memory" (built earlier in this run)
    seconds: float


def index_key(index_cls, corpus: Corpus) -> str:
    payload = {
        "retriever": index_cls.name,
        "settings": index_cls.cache_settings(),
        "corpus": corpus.fingerprint,
        "entries": len(corpus.entries),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def open_index(index_cls, corpus: Corpus, root: Path | None = None) -> Opened:
    """The ``index_cls`` index of ``corpus``: from memory, from disk, or built and stored."""
    started = time.perf_counter()
    folder = (root or default_root()) / f"{index_cls.name}-{index_key(index_cls, corpus)}"
    if folder in _IN_MEMORY:
        return Opened(_IN_MEMORY[folder], "memory", time.perf_counter() - started)
    if (folder / "index.json").exists():
        index, how = index_cls.load(folder), "disk"
    else:
        index, how = index_cls.build([e.text for e in corpus.entries]), "built"
        _store(index, folder, corpus)
    _IN_MEMORY[folder] = index
    return Opened(index, how, time.perf_counter() - started)


def _store(index, folder: Path, corpus: Corpus) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    index.save(partial)
    # Written last: its presence is what marks the folder complete.
    about = {
        "corpus_fingerprint": corpus.fingerprint,
        "corpus_source": corpus.source,
        "entries": len(corpus.entries),
        "entry_ids": [e.id for e in corpus.entries],
    }
    (partial / "index.json").write_text(json.dumps(about))
    try:
        os.replace(partial, folder)
    except OSError:  # another process finished the same index first; theirs is as good
        shutil.rmtree(partial, ignore_errors=True)


def forget_in_memory() -> None:
    """Drop the in-process copies (tests use it to check what is read from disk)."""
    _IN_MEMORY.clear()
