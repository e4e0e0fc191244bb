"""Sampled generation: several continuations per conversation at a temperature, seeded."""

from __future__ import annotations

import torch
from transformers import StoppingCriteriaList

from harness.model.generate import FirstLineStop, cut_answer, encode_prompts
from harness.model.lm_head import with_contiguous_head_input


@with_contiguous_head_input
@torch.inference_mode()
def sample_generations(
    model,
    tokenizer,
    conversations: list[list[dict]],
    *,
    samples: int,
    temperature: float,
    batch_size: int,
    max_new_tokens: int,
    seed: int,
    stop_at_first_line: bool = False,
) -> list[list[str]]:
    """``samples`` sampled continuations per conversation, in order; seeded, so a rerun repeats them.

    ``stop_at_first_line``: each continuation ends at its first line, as greedy answers do (model/generate.py)."""
    torch.manual_seed(seed)
    encoded = encode_prompts(tokenizer, conversations)
    device = next(model.parameters()).device
    pad_id, eos_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    per_call = max(1, batch_size // samples)  # each prompt becomes `samples` rows
    out: list[list[str]] = []
    for start in range(0, len(encoded), per_call):
        batch = encoded[start : start + per_call]
        width = max(len(ids) for ids in batch)
        input_ids = torch.tensor([[pad_id] * (width - len(ids)) + ids for ids in batch], device=device)
        attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in batch], device=device)
        stop = FirstLineStop(tokenizer) if stop_at_first_line else None
        output = model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            do_sample=True,
            temperature=temperature,
            top_p=1.0,
            top_k=0,
            num_return_sequences=samples,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad_id,
            eos_token_id=eos_id,
            **({"stopping_criteria": StoppingCriteriaList([stop])} if stop is not None else {}),
        )
        for row in range(len(batch)):  # generate() returns each prompt's samples next to each other
            texts = []
            for sample in range(samples):
                generated = output[row * samples + sample, width:].tolist()
                texts.append(cut_answer(tokenizer, generated, stop=stop, row=row * samples + sample)[1])
            out.append(texts)
    return out
