"""The leakage guard: no test item can ever be retrieved.

A retriever that can find the test item itself in its corpus would hand the
model the gold answer; the score would measure lookup, not the method. So before
an index is built, every corpus entry that *is* a test item is taken out:

- the same content hash (prompt and answer, as the data loader computes it),
- the same text once case and whitespace are ignored (a document copy of the item),
- or text that contains a whole test item of at least ``MIN_CONTAINED_WORDS`` words
  (a test item pasted into a longer reference document).

Entries are removed, not reported as an error: a reference collection that happens
to hold the test documents is common and still usable without them. How many
were removed is recorded with the variant's cost, so it is visible in results.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.data.chat import Item
from harness.retrieval.corpus import Corpus, CorpusEntry, normalise, query_text, text_hash

# Shorter test texts ("Lease.") occur inside unrelated documents by chance.
MIN_CONTAINED_WORDS = 8


@dataclass(frozen=True)
class GuardReport:
    kept: Corpus
    removed: tuple[tuple[str, str, str], ...]  # (entry id, test item id, why)


class LeakageGuard:
    def __init__(self, held_out: list[Item] | tuple[Item, ...]):
        self._by_content = {item.content_hash: item.id for item in held_out}
        texts = [(item.id, query_text(item.prompt_messages())) for item in held_out]
        self._by_text = {text_hash(text): item_id for item_id, text in texts}
        # Containment is found through each long test text's first few words, so a
        # corpus is scanned once rather than once per test item.
        self._by_opening: dict[str, list[tuple[str, list[str]]]] = {}
        for item_id, text in texts:
            words = normalise(text).split()
            if len(words) >= MIN_CONTAINED_WORDS:
                self._by_opening.setdefault(" ".join(words[:MIN_CONTAINED_WORDS]), []).append((item_id, words))

    def leak_of(self, entry: CorpusEntry) -> tuple[str, str] | None:
        """(test item id, why) if ``entry`` is a held-out item, else None."""
        if entry.content_hash in self._by_content:
            return self._by_content[entry.content_hash], "same content hash"
        if entry.text_hash in self._by_text:
            return self._by_text[entry.text_hash], "same text"
        words = normalise(entry.text).split()
        for start in range(len(words) - MIN_CONTAINED_WORDS + 1):
            for item_id, test_words in self._by_opening.get(" ".join(words[start : start + MIN_CONTAINED_WORDS]), ()):
                if words[start : start + len(test_words)] == test_words:
                    return item_id, "contains the test item's text"
        return None

    def filter(self, corpus: Corpus) -> GuardReport:
        removed = []
        for entry in corpus.entries:
            leak = self.leak_of(entry)
            if leak:
                removed.append((entry.id, *leak))
        return GuardReport(kept=corpus.without({entry_id for entry_id, _, _ in removed}), removed=tuple(removed))
