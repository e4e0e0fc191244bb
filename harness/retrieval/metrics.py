"""Retrieval figures recorded with a variant's cost: pure functions of what was retrieved."""

from __future__ import annotations

from statistics import fmean


def label_hit_at_k(gold: list[str | None], retrieved: list[list[str | None]]) -> float | None:
    """Share of queries whose retrieved entries include one with the query's gold label.

    None when it cannot be measured: no query has a gold label, or no retrieved entry has a label.
    """
    pairs = [(g, labels) for g, labels in zip(gold, retrieved) if g is not None]
    if not pairs or not any(label is not None for _, labels in pairs for label in labels):
        return None
    return sum(g in labels for g, labels in pairs) / len(pairs)


def mean_or_none(values: list[float]) -> float | None:
    return fmean(values) if values else None


def added_tokens(with_context: list[int], without_context: list[int]) -> list[int]:
    """Prompt tokens each item gained from retrieval."""
    return [a - b for a, b in zip(with_context, without_context)]
