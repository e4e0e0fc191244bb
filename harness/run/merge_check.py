"""Merge check: does the adapter, folded into the base weights, predict what it predicted attached?

Serving a LoRA, DoRA or IA3 adapter merged into the base (one plain model, no
adapter overhead per token) is only safe if merging changes nothing that
matters. This check merges the adapter into a deep copy of the base (the shared
base is never touched), regenerates every test item with the same greedy
settings, and compares the texts. Merging changes the order of floating-point
operations, so a near-tie between two tokens can flip; a handful of mismatches
is rounding, many mean the merge is wrong.
"""

from __future__ import annotations

import copy
import gc
import time


def check_merge(
    variant, settings, conversations: list[list[dict]], adapter_texts: list[str], item_ids: list[str]
) -> dict | None:
    """``{"identical", "mismatches", "n", "mismatched_items", "seconds"}``; None for kinds that do not merge."""
    if not getattr(variant, "mergeable", False):
        return None
    started = time.perf_counter()
    with variant.activated() as peft_model:
        merged = copy.deepcopy(peft_model).merge_and_unload()
    merged.eval()
    try:
        with settings.env.progress.task(f"merge check {variant.name}", total=len(conversations)) as advance:
            merged_texts = [
                g.text
                for g in settings.predictor(merged, variant.inference_spec()).generate(
                    conversations, on_batch=lambda n: advance(advance=n)
                )
            ]
    finally:
        del merged  # a second full model: free it before the next variant
        gc.collect()
    mismatched = [item for item, a, b in zip(item_ids, adapter_texts, merged_texts) if a != b]
    return {
        "identical": not mismatched,
        "mismatches": len(mismatched),
        "n": len(conversations),
        "mismatched_items": mismatched[:20],
        "seconds": time.perf_counter() - started,
    }
