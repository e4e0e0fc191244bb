"""Batched greedy generation: many conversations in, one text each out.

Conversations are sorted by prompt length so each batch pads little, then put
back in their original order. Greedy decoding makes scoring repeatable.

Every prompt of a variant starts with the same tokens (the system prompt, and a
few-shot variant's demonstrations: up to 80% of its prompt). That shared prefix
is run through the model once; each batch starts from a copy of its key/value
cache and computes only the tokens that differ.
"""

from __future__ import annotations

import copy
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    output_tokens: int
    seconds: float  # this item's share of its batch's wall time
    shared_prompt_tokens: int = 0  # leading prompt tokens served from the cache of the prefix all items share


def encode_prompts(tokenizer, conversations: list[list[dict]]) -> list[list[int]]:
    return [
        tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
        for c in conversations
    ]


@contextmanager
def inference_precision(bf16: bool):
    """bf16 autocast for everything that only reads the model (predictions, probes, checks).

    Measured on this 2-core CPU with SmolLM2-135M (benchmarks/README.md): about
    seven times the fp32 speed, as the bf16 matmul peak is four times fp32's and
    half the bytes move. Greedy outputs can differ from fp32 on near-ties, so it is
    a suite's choice (``inference.bf16``), recorded with its results. Training has
    its own switch (``training.bf16``) and is never inside this context.
    """
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
        yield


# Below this many shared tokens, copying the cache for each batch saves too little to matter.
MIN_SHARED_PREFIX = 16


def shared_prefix_length(encoded: list[list[int]]) -> int:
    """Tokens every prompt starts with, leaving each prompt at least one token of its own."""
    if len(encoded) < 2:
        return 0
    common = len(os.path.commonprefix(encoded))  # works on any sequences, not only strings
    return min(common, min(len(ids) for ids in encoded) - 1)


@torch.inference_mode()
def generate(
    model,
    tokenizer,
    conversations: list[list[dict]],
    *,
    batch_size: int,
    max_new_tokens: int,
    on_batch: Callable[[int], None] | None = None,
    share_prefix: bool = True,
) -> list[Generation]:
    encoded = encode_prompts(tokenizer, conversations)
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    results: list[Generation | None] = [None] * len(encoded)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id
    prefix_len = shared_prefix_length(encoded) if share_prefix and _can_share_prefix(model) else 0
    prefix_cache = None
    started = time.perf_counter()
    if prefix_len >= MIN_SHARED_PREFIX:
        prefix_cache = model(input_ids=torch.tensor([encoded[0][:prefix_len]], device=device), use_cache=True).cache
    else:
        prefix_len = 0
    prefix_seconds = (time.perf_counter() - started) / len(encoded)  # shared by every item
    prefix = encoded[0][:prefix_len]
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        suffixes = [encoded[i][prefix_len:] for i in batch]
        width = max(len(s) for s in suffixes)
        # Padding sits between the shared prefix and each row's own tokens, so every
        # row's continuation starts at the same column; generate() derives position
        # ids from the mask, so padding shifts no positions.
        input_ids = torch.tensor([prefix + [pad_id] * (width - len(s)) + s for s in suffixes], device=device)
        attention = torch.tensor(
            [[1] * prefix_len + [0] * (width - len(s)) + [1] * len(s) for s in suffixes], device=device
        )
        cache = None
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(batch))
        started = time.perf_counter()
        output = model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=pad_id,
            eos_token_id=tokenizer.eos_token_id,
            **({"cache": cache} if cache is not None else {}),
        )
        seconds = (time.perf_counter() - started) / len(batch) + prefix_seconds
        width += prefix_len
        for row, index in enumerate(batch):
            new_tokens = output[row, width:].tolist()
            if tokenizer.eos_token_id in new_tokens:
                new_tokens = new_tokens[: new_tokens.index(tokenizer.eos_token_id)]
            text = tokenizer.decode(new_tokens, skip_special_tokens=True)
            results[index] = Generation(
                text=text,
                prompt_tokens=len(encoded[index]),
                output_tokens=len(new_tokens),
                seconds=seconds,
                shared_prompt_tokens=prefix_len,
            )
        if on_batch:
            on_batch(len(batch))
    return results  # type: ignore[return-value]


def computed_prompt_tokens(generations) -> int:
    """Prompt tokens that actually ran through the model: the shared prefix once, then each item's own."""
    shared = max((getattr(g, "shared_prompt_tokens", 0) for g in generations), default=0)
    return shared + sum(g.prompt_tokens - getattr(g, "shared_prompt_tokens", 0) for g in generations)


def _can_share_prefix(model) -> bool:
    """A plain causal LM, or a peft model whose adapter changes weights, not the input.

    Prompt and prefix tuning put virtual tokens in front of the prompt, so a cache
    of the prompt's first tokens alone would be wrong for them.
    """
    if not isinstance(model, torch.nn.Module):
        return False  # a wrapper with its own generate (harness.variants.prompt_learning)
    config = getattr(model, "active_peft_config", None)
    return not (config is not None and config.is_prompt_learning)
