"""Output variability: how much a variant's answers change when sampled instead of decoded greedily.

Scoring uses greedy decoding, which hides how close the model is to answering
differently. Asked for (``inference.variability``), each test item is sampled
N times at the given temperature and we record the share of distinct outputs
per item (1/N: always the same answer; 1: never twice the same), averaged over
items, for the raw texts and for the parsed labels (texts can differ in
wording and still give one label).
"""

from __future__ import annotations

import time
from statistics import mean

import torch

from harness.model.generate import encode_prompts


def measure_variability(variant, ctx, conversations: list[list[dict]], *, samples: int, temperature: float,
                        seed: int) -> dict:
    started = time.perf_counter()
    with variant.activated() as model:
        texts = sample_generations(model, ctx.base.tokenizer, conversations, samples=samples, temperature=temperature,
                                   batch_size=ctx.suite.spec.inference.batch_size,
                                   max_new_tokens=ctx.suite.spec.inference.max_new_tokens, seed=seed)
    labels = [[ctx.task.parse(t).label for t in item] for item in texts]
    return {
        "samples": samples, "temperature": temperature, "n": len(texts),
        "distinct_output_share": mean(distinct_share(item) for item in texts) if texts else None,
        "distinct_label_share": mean(distinct_share(item) for item in labels) if labels else None,
        "consistent_label_items": mean(len(set(item)) == 1 for item in labels) if labels else None,
        "seconds": time.perf_counter() - started,
    }


def distinct_share(outputs: list) -> float:
    return len(set(outputs)) / len(outputs)


@torch.inference_mode()
def sample_generations(model, tokenizer, conversations: list[list[dict]], *, samples: int, temperature: float,
                       batch_size: int, max_new_tokens: int, seed: int) -> list[list[str]]:
    """``samples`` sampled continuations per conversation, in order; seeded, so a rerun repeats them."""
    torch.manual_seed(seed)
    encoded = encode_prompts(tokenizer, conversations)
    device = next(model.parameters()).device
    pad_id, eos_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    per_call = max(1, batch_size // samples)  # each prompt becomes `samples` rows
    out: list[list[str]] = []
    for start in range(0, len(encoded), per_call):
        batch = encoded[start: start + per_call]
        width = max(len(ids) for ids in batch)
        input_ids = torch.tensor([[pad_id] * (width - len(ids)) + ids for ids in batch], device=device)
        attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in batch], device=device)
        output = model.generate(input_ids=input_ids, attention_mask=attention, do_sample=True, temperature=temperature,
                                top_p=1.0, top_k=0, num_return_sequences=samples, max_new_tokens=max_new_tokens,
                                pad_token_id=pad_id, eos_token_id=eos_id)
        for row in range(len(batch)):  # generate() returns each prompt's samples next to each other
            texts = []
            for sample in range(samples):
                tokens = output[row * samples + sample, width:].tolist()
                if eos_id in tokens:
                    tokens = tokens[: tokens.index(eos_id)]
                texts.append(tokenizer.decode(tokens, skip_special_tokens=True))
            out.append(texts)
    return out
