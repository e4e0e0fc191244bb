"""Retrieval for a variant: corpus -> guard -> index -> contexts for every item -> prompts.

One ``RetrievalAugmenter`` serves one variant, whether a ``rag`` baseline or a
trained variant with ``retrieval:``. ``prepare`` does all the searching at once
(one batched search per split, not one per prompt) and keeps each item's entries
under a key of its query text; ``render`` then only looks them up.

Rules:
- the leakage guard removes every test item from the corpus before indexing;
- no item retrieves itself: entries with the item's content hash or its exact
  text are excluded from its own search. For a training item searched in the
  training split this is what keeps retrieval-augmented fine-tuning honest: the
  adapter learns to use *neighbours*, as it must at test time, not to copy its
  own answer out of the reference block;
- a trained variant searches for its training and validation items too, so it is
  trained on the same kind of prompt it is tested on.
"""

from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path

from harness.core.errors import BenchError
from harness.data.chat import Item
from harness.retrieval import metrics
from harness.retrieval.config import RetrievalSpec
from harness.retrieval.corpus import (
    Corpus,
    CorpusEntry,
    corpus_from_items,
    query_text,
    read_folder,
    read_jsonl,
    text_hash,
)
from harness.retrieval.guard import GuardReport, LeakageGuard
from harness.retrieval.index_cache import open_index
from harness.retrieval.reference import demonstration_turns, reference_block
from harness.retrieval.search import search


def query_key(prompt_messages: list[dict]) -> str:
    return text_hash(query_text(prompt_messages))


class RetrievalAugmenter:
    """``env`` is the variant's ``harness.variants.environment.VariantEnvironment`` (splits, task, prompt
    template, tokenizer, path resolution); it is passed in, not imported, because variants sit above retrieval."""

    def __init__(self, spec: RetrievalSpec, env, *, cache_root: Path | None = None, template=None):
        self.spec = spec
        self.env = env
        # The variant's own prompt template (a per-variant system prompt); the suite's when none is given.
        self.template = template if template is not None else env.prompt_template
        self.cache_root = cache_root
        self._contexts: dict[str, list[CorpusEntry]] = {}
        self._index_cost: dict = {}

    # -- corpus and index ---------------------------------------------------------------

    @cached_property
    def source_corpus(self) -> Corpus:
        """The corpus as configured, read once (the variant key and the index both need it)."""
        corpus = self.spec.corpus
        if corpus == "train":
            return corpus_from_items(self.env.split("train").items)
        path = self.env.resolve_path(corpus.path, field="corpus.path")
        if corpus.format == "folder":
            # Each file is fenced as the folder was: its symlinks resolved, refused outside the suite's reach.
            fence = lambda file: self.env.resolve_path(str(file), field="corpus.path")  # noqa: E731
            return read_folder(path, chunk_words=corpus.chunk_words, fence=fence)
        return read_jsonl(path, self.env.task)

    @cached_property
    def guarded(self) -> GuardReport:
        corpus = self.source_corpus
        report = LeakageGuard(self.env.split("test").items).filter(corpus)
        if not report.kept.entries:
            raise BenchError(f"the retrieval corpus ({corpus.source}) is empty once test items are removed")
        return report

    @property
    def corpus(self) -> Corpus:
        return self.guarded.kept

    @cached_property
    def index(self):
        from harness.retrieval.bm25 import BM25Index
        from harness.retrieval.dense import DenseIndex
        from harness.retrieval.hybrid import HybridIndex

        classes = {"bm25": [BM25Index], "dense": [DenseIndex], "hybrid": [BM25Index, DenseIndex]}[self.spec.retriever]
        opened = [open_index(cls, self.corpus, self.cache_root) for cls in classes]
        self._index_cost = {
            "retrieval_index_seconds": sum(o.seconds for o in opened),
            "retrieval_index_built": any(o.how == "built" for o in opened),
        }
        return opened[0].index if len(opened) == 1 else HybridIndex([o.index for o in opened])

    # -- searching ----------------------------------------------------------------------

    def retrieve(self, items: list[Item] | tuple[Item, ...]) -> list[list[CorpusEntry]]:
        """Top-k entries for each item (one batched search), the item itself never among them."""
        entries = self.corpus.entries
        positions_by_hash: dict[str, set[int]] = {}
        for position, entry in enumerate(entries):
            positions_by_hash.setdefault(entry.text_hash, set()).add(position)
            positions_by_hash.setdefault(entry.content_hash, set()).add(position)
        queries = [query_text(item.prompt_messages()) for item in items]
        exclude = [
            positions_by_hash.get(text_hash(q), set()) | positions_by_hash.get(item.content_hash, set())
            for q, item in zip(queries, items)
        ]
        found = search(self.index, queries, self.spec.k, exclude)
        for item, positions in zip(items, found):
            self._contexts[query_key(item.prompt_messages())] = [entries[p] for p in positions]
        return [[entries[p] for p in positions] for positions in found]

    def prepare(self, workdir: Path | None = None, *, training_max_length: int | None = None) -> dict:
        """Search for every item the variant will prompt with; return the figures for its cost record.

        ``training_max_length`` is given by trained variants: their training items are
        searched too, and the longer prompts are checked to still fit.
        """
        test_items = self.env.test_items()
        self.index  # built or loaded before the clock starts: the latency is per query, not per index build
        started = time.perf_counter()
        test_contexts = self.retrieve(test_items)
        latency_ms = (time.perf_counter() - started) * 1000 / max(len(test_items), 1)
        if training_max_length is not None:
            self._retrieve_for_training()
            self._check_training_fits(training_max_length)
        added = self._added_prompt_tokens(test_items)
        if workdir is not None:
            self._write_retrievals(workdir / "retrieval.jsonl", test_items, test_contexts)
        return {
            "retrieval_k": self.spec.k,
            "retrieval_corpus_entries": len(self.corpus.entries),
            "retrieval_leakage_removed": len(self.guarded.removed),
            **self._index_cost,
            "retrieval_latency_ms_mean": latency_ms,
            "retrieval_hit_at_k": metrics.label_hit_at_k(
                [i.label for i in test_items], [[e.label for e in c] for c in test_contexts]
            ),
            "retrieval_added_prompt_tokens_mean": metrics.mean_or_none(added),
        }

    def _retrieve_for_training(self) -> None:
        for split in ("train", "validation"):
            if split in self.env.splits:
                self.retrieve(self.env.splits[split].items)

    # -- prompts ------------------------------------------------------------------------

    def context_for(self, prompt_messages: list[dict]) -> list[CorpusEntry]:
        key = query_key(prompt_messages)
        if key not in self._contexts and not self._contexts:
            # A trained kind that did not call prepare: still search every split in one batch.
            self.retrieve(self.env.test_items())
            self._retrieve_for_training()
        if key not in self._contexts:
            # A prompt from no split: search it alone, with the same self-exclusion.
            item = Item(id=key, prompt=tuple(prompt_messages), answer="", label=None, source="", content_hash="")
            self.retrieve([item])
        return self._contexts[key]

    def render(self, prompt_messages: list[dict]) -> list[dict]:
        entries = self.context_for(prompt_messages)
        as_turns = [e for e in entries if e.answer is not None] if self.spec.labelled_as == "demonstrations" else []
        in_block = [e for e in entries if e not in as_turns]
        return self.template.render(
            prompt_messages,
            demonstrations=demonstration_turns(as_turns, max_words=self.spec.max_entry_words),
            system_suffix=reference_block(in_block, max_words=self.spec.max_entry_words),
        )

    # -- figures ------------------------------------------------------------------------

    def _added_prompt_tokens(self, items) -> list[int]:
        from harness.model.generate import encode_prompts

        tokenizer = self.env.base.tokenizer
        plain = [self.template.render(i.prompt_messages()) for i in items]
        augmented = [self.render(i.prompt_messages()) for i in items]
        return metrics.added_tokens(
            [len(ids) for ids in encode_prompts(tokenizer, augmented)],
            [len(ids) for ids in encode_prompts(tokenizer, plain)],
        )

    def _check_training_fits(self, max_length: int) -> None:
        """Retrieved context must not push a training answer past ``max_length``, where it would be cut off."""
        tokenizer = self.env.base.tokenizer
        items = self.env.split("train").items
        conversations = [self.render(i.prompt_messages()) + [{"role": "assistant", "content": i.answer}] for i in items]
        lengths = [
            len(tokenizer.apply_chat_template(c, tokenize=True, return_dict=True)["input_ids"]) for c in conversations
        ]
        too_long = [n for n in lengths if n > max_length]
        if too_long:
            raise BenchError(
                f"{len(too_long)} of {len(items)} training prompts with retrieved context are longer than "
                f"training.max_length={max_length} tokens (longest {max(lengths)}); their answers would be cut off",
                hint=f"set this variant's training.max_length to at least {max(lengths)}, "
                f"or lower retrieval.k / retrieval.max_entry_words",
            )

    @staticmethod
    def _write_retrievals(path: Path, items, contexts) -> None:
        """What each test item was shown, for reading alongside samples.jsonl."""
        from harness.core.files import write_jsonl

        write_jsonl(
            path,
            [
                {
                    "item_id": item.id,
                    "gold": item.label,
                    "retrieved": [e.id for e in found],
                    "retrieved_labels": [e.label for e in found],
                }
                for item, found in zip(items, contexts)
            ],
        )
