"""Batches bounded by tokens as well as rows, so a batch of long prompts cannot take the memory of many.

Prompts come sorted longest first, and a batch is as wide as its widest row, so
its memory grows with rows x that width: the key/value cache of every row (46 kB
a token for SmolLM2-135M in fp32) and each layer's activations. Thirty-two
few-shot legal prompts of about 2,100 tokens each held 3 GB of cache alone;
under a budget of 8,192 tokens the same items go three at a time.
"""

from __future__ import annotations

from typing import Callable, Iterator


def bounded_batches(
    order: list[int], *, max_rows: int, max_tokens: int | None, row_tokens: Callable[[int], int]
) -> Iterator[list[int]]:
    """Consecutive slices of ``order``: at most ``max_rows`` rows, and rows x the widest row's
    ``row_tokens`` within ``max_tokens`` (None: no bound). A row wider than the budget goes alone."""
    batch: list[int] = []
    widest = 0
    for index in order:
        tokens = row_tokens(index)
        width = max(widest, tokens)
        if batch and (len(batch) == max_rows or (max_tokens is not None and (len(batch) + 1) * width > max_tokens)):
            yield batch
            batch, width = [], tokens
        batch.append(index)
        widest = width
    if batch:
        yield batch
