"""Retrieval for prompts: the ``rag`` baseline and ``retrieval:`` on trained variants.

Where things are:
- ``config``: what a suite may say (retriever, k, corpus);
- ``corpus``: the training split or reference documents as searchable entries;
- ``guard``: no test item is ever retrievable;
- ``bm25``, ``dense``, ``hybrid``: the three retrievers, each scoring every entry;
- ``index_cache``: an index is built once per corpus fingerprint and reused;
- ``search``: top-k with one tie rule for all retrievers;
- ``reference``: how entries are shown: chat demonstrations, or the fenced reference block;
- ``metrics``: label hit@k, latency, added prompt tokens;
- ``augment``: the pieces joined for one variant.

Heavy packages (bm25s, sentence-transformers) are imported only when a
retriever is used, so importing this package costs nothing.
"""
