"""Batched greedy generation: many conversations in, one text each out.

Conversations are sorted by prompt length so each batch pads little, then put
back in their original order. Greedy decoding makes scoring repeatable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    output_tokens: int
    seconds: float  # this item's share of its batch's wall time


def encode_prompts(tokenizer, conversations: list[list[dict]]) -> list[list[int]]:
    return [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
            for c in conversations]


@torch.inference_mode()
def generate(model, tokenizer, conversations: list[list[dict]], *, batch_size: int, max_new_tokens: int,
             on_batch: Callable[[int], None] | None = None) -> list[Generation]:
    encoded = encode_prompts(tokenizer, conversations)
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    results: list[Generation | None] = [None] * len(encoded)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id
    for start in range(0, len(order), batch_size):
        batch = order[start: start + batch_size]
        width = max(len(encoded[i]) for i in batch)
        # Left padding, so every row's continuation starts at the same column.
        input_ids = torch.tensor([[pad_id] * (width - len(encoded[i])) + encoded[i] for i in batch], device=device)
        attention = torch.tensor([[0] * (width - len(encoded[i])) + [1] * len(encoded[i]) for i in batch], device=device)
        started = time.perf_counter()
        output = model.generate(
            input_ids=input_ids, attention_mask=attention, max_new_tokens=max_new_tokens, do_sample=False,
            temperature=None, top_p=None, top_k=None, pad_token_id=pad_id, eos_token_id=tokenizer.eos_token_id,
        )
        seconds = (time.perf_counter() - started) / len(batch)
        for row, index in enumerate(batch):
            new_tokens = output[row, width:].tolist()
            if tokenizer.eos_token_id in new_tokens:
                new_tokens = new_tokens[: new_tokens.index(tokenizer.eos_token_id)]
            text = tokenizer.decode(new_tokens, skip_special_tokens=True)
            results[index] = Generation(text=text, prompt_tokens=len(encoded[index]), output_tokens=len(new_tokens), seconds=seconds)
        if on_batch:
            on_batch(len(batch))
    return results  # type: ignore[return-value]
