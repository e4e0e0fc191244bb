"""One chat completion on whichever model the registry made active.

Greedy decoding (temperature 0, the default) goes through the same
``harness.model.generate.generate`` the evaluation used, so a served adapter answers
an item exactly as it did in the run. Sampling is there for clients that ask
for it; it was never part of what bench measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from harness.model.generate import encode_prompts, generate


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # "stop": the model ended or a stop string matched; "length": max_tokens reached
    prompt_tokens: int
    completion_tokens: int


def complete(
    model,
    tokenizer,
    messages: list[dict],
    *,
    max_tokens: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int | None = None,
    stop: list[str] | None = None,
) -> Completion:
    if temperature == 0:
        result = generate(model, tokenizer, [messages], batch_size=1, max_new_tokens=max_tokens)[0]
        text, prompt_tokens, output_tokens = result.text, result.prompt_tokens, result.output_tokens
    else:
        text, prompt_tokens, output_tokens = _sample(
            model, tokenizer, messages, max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed
        )
    finish = "length" if output_tokens >= max_tokens else "stop"
    for marker in stop or []:
        # Cut at the earliest stop string, as OpenAI does; the marker itself is not returned.
        if marker and marker in text:
            text, finish = text[: text.index(marker)], "stop"
    return Completion(text=text, finish_reason=finish, prompt_tokens=prompt_tokens, completion_tokens=output_tokens)


@torch.inference_mode()
def _sample(
    model, tokenizer, messages: list[dict], *, max_tokens: int, temperature: float, top_p: float, seed: int | None
) -> tuple[str, int, int]:
    ids = encode_prompts(tokenizer, [messages])[0]
    device = next(model.parameters()).device
    if seed is not None:
        torch.manual_seed(seed)  # global RNG: safe because the registry lets one request run at a time
    input_ids = torch.tensor([ids], device=device)
    output = model.generate(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        max_new_tokens=max_tokens,
        do_sample=True,
        temperature=temperature,
        top_p=top_p,
        top_k=None,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    new_tokens = output[0, len(ids) :].tolist()
    if tokenizer.eos_token_id in new_tokens:
        new_tokens = new_tokens[: new_tokens.index(tokenizer.eos_token_id)]
    return tokenizer.decode(new_tokens, skip_special_tokens=True), len(ids), len(new_tokens)
