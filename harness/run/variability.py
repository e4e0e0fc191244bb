"""Output variability: how much a variant's answers change when sampled instead of decoded greedily.

Scoring uses greedy decoding, which hides how close the model is to answering
differently. Asked for (``inference.variability``), each test item is sampled
N times at the given temperature and we record the share of distinct outputs
per item (1/N: always the same answer; 1: never twice the same), averaged over
items, for the raw texts and for the parsed answers (texts can differ in
wording and still give one label; "label" in the record's keys is the task's
parsed answer: a label, an extraction's record, a generation's text).
"""

from __future__ import annotations

import time
from statistics import mean


def measure_variability(
    variant, settings, conversations: list[list[dict]], *, samples: int, temperature: float, seed: int
) -> dict:
    started = time.perf_counter()
    with variant.activated() as model:
        texts = settings.predictor(model, variant.inference_spec()).sample(
            conversations, samples=samples, temperature=temperature, seed=seed
        )
    labels = [[settings.env.task.parse(t).answer for t in item] for item in texts]  # every task type parses
    return {
        "samples": samples,
        "temperature": temperature,
        "n": len(texts),
        "distinct_output_share": mean(distinct_share(item) for item in texts) if texts else None,
        "distinct_label_share": mean(distinct_share(item) for item in labels) if labels else None,
        "consistent_label_items": mean(len(set(item)) == 1 for item in labels) if labels else None,
        "seconds": time.perf_counter() - started,
    }


def distinct_share(outputs: list) -> float:
    return len(set(outputs)) / len(outputs)
