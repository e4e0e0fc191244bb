"""Batched greedy generation: many conversations in, one text each out.

Conversations are sorted by prompt length so each batch pads little, then put
back in their original order. Greedy decoding makes scoring repeatable.

Every prompt of a variant starts with the same tokens (the system prompt, and a
few-shot variant's demonstrations: up to 80% of its prompt). That shared prefix
is run through the model once; each batch starts from a copy of its key/value
cache and computes only the tokens that differ.

A task whose answer is one line (a classification label) asks for
``stop_at_first_line=True``: a row stops as soon as it has a line of text followed by a
newline, instead of rambling on to ``max_new_tokens``, and its text is that
line. Greedy decoding makes this the full generation cut at its first line.
"""

from __future__ import annotations

import copy
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from harness.core.allocator import returning_pages_between
from harness.model.batches import bounded_batches
from harness.model.lm_head import with_contiguous_head_input
from harness.model.virtual_tokens import has_virtual_tokens


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    output_tokens: int
    seconds: float  # this item's share of its batch's wall time
    shared_prompt_tokens: int = 0  # leading prompt tokens served from the cache of the prefix all items share
    # The probability of the answer as generated: exp of the summed log-probabilities of its tokens, end of
    # turn included when it came (a complete answer, as rank mode scores one). None where the model's own
    # generate gives no logits (a prompt-learning wrapper).
    confidence: float | None = None


def encode_prompts(tokenizer, conversations: list[list[dict]]) -> list[list[int]]:
    return [
        tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
        for c in conversations
    ]


def first_line(text: str) -> str | None:
    """``text`` up to the first newline that follows some non-blank text; None while no such newline came.

    Leading blank lines do not end an answer: a model that opens with a newline still gets to answer.
    """
    body = text.lstrip()
    if "\n" not in body:
        return None
    return text[: len(text) - len(body) + body.index("\n")]


class FirstLineStop(StoppingCriteria):
    """Ends each row of one ``generate`` call once its new tokens hold a first line (see ``first_line``).

    Called after every step with the ids so far; the first call holds exactly one new
    token, which fixes where the new tokens start whatever the caller put in front
    (padding, a shared prefix, prompt-learning placeholders). ``kept[row]`` is how many
    new tokens the row had when it stopped; the tokens after it are padding.
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.start: int | None = None
        self.kept: dict[int, int] = {}

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        if self.start is None:
            self.start = input_ids.shape[1] - 1
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for row, token in enumerate(input_ids[:, -1].tolist()):
            if row in self.kept:
                done[row] = True
            # Decoding the whole answer only when the newest token holds a newline keeps this cheap per step.
            elif "\n" in self.tokenizer.decode([token]):
                new = input_ids[row, self.start :].tolist()
                if first_line(self.tokenizer.decode(new, skip_special_tokens=True)) is not None:
                    self.kept[row] = len(new)
                    done[row] = True
        return done


def cut_answer(tokenizer, generated: list[int], *, stop: FirstLineStop | None, row: int) -> tuple[list[int], str]:
    """One row's answer tokens (to end-of-text, or to where ``stop`` ended the row) and its text (its first line
    when ``stop`` is given; without a newline, the whole output, as without stopping)."""
    tokens = generated[: stop.kept[row]] if stop is not None and row in stop.kept else generated
    if tokenizer.eos_token_id in tokens:
        tokens = tokens[: tokens.index(tokenizer.eos_token_id)]
    text = tokenizer.decode(tokens, skip_special_tokens=True)
    return tokens, (first_line(text) or text) if stop is not None else text


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


@with_contiguous_head_input
@torch.inference_mode()
def generate(
    model,
    tokenizer,
    conversations: list[list[dict]],
    *,
    batch_size: int,
    max_new_tokens: int,
    max_batch_tokens: int | None = None,
    on_batch: Callable[[int], None] | None = None,
    share_prefix: bool = True,
    stop_at_first_line: bool = False,
    with_confidence: bool = False,
) -> list[Generation]:
    """``with_confidence``: also the probability of each answer (``Generation.confidence``). Off unless asked,
    as it keeps every step's logits for the batch ([batch, vocab] per token, gigabytes for a long generation).
    ``max_batch_tokens``: rows x (prompt + new tokens) per batch, the shared prefix included, since every
    row gets its own copy of its cache (model/batches.py)."""
    encoded = encode_prompts(tokenizer, conversations)
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    results: list[Generation | None] = [None] * len(encoded)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id
    prefix_len = shared_prefix_length(encoded) if share_prefix and can_share_prefix(model) else 0
    prefix_cache = None
    started = time.perf_counter()
    if prefix_len >= MIN_SHARED_PREFIX:
        prefix_cache = model(input_ids=torch.tensor([encoded[0][:prefix_len]], device=device), use_cache=True).cache
    else:
        prefix_len = 0
    prefix_seconds = (time.perf_counter() - started) / len(encoded)  # shared by every item
    prefix = encoded[0][:prefix_len]
    batches = bounded_batches(
        order, max_rows=batch_size, max_tokens=max_batch_tokens, row_tokens=lambda i: len(encoded[i]) + max_new_tokens
    )
    for batch in returning_pages_between(batches):  # core/allocator.py: no page faults inside a batch
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
        stop = FirstLineStop(tokenizer) if stop_at_first_line else None
        started = time.perf_counter()
        # The raw logits of each step come back with the tokens (not the processed scores: a processor
        # could rescale them); a wrapper with its own generate returns bare token ids.
        scored = with_confidence and isinstance(model, torch.nn.Module)
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
            **({"return_dict_in_generate": True, "output_logits": True} if scored else {}),
            **({"stopping_criteria": StoppingCriteriaList([stop])} if stop is not None else {}),
        )
        logits = getattr(output, "logits", None) if scored else None
        output = output.sequences if scored else output
        token_logprobs = _chosen_logprobs(logits, output[:, width + prefix_len :]) if logits else None
        seconds = (time.perf_counter() - started) / len(batch) + prefix_seconds
        width += prefix_len
        for row, index in enumerate(batch):
            generated = output[row, width:].tolist()
            new_tokens, text = cut_answer(tokenizer, generated, stop=stop, row=row)
            confidence = None
            if token_logprobs is not None:
                stopped = stop is not None and row in stop.kept  # its newline is its last token; padding follows
                emitted = len(new_tokens) + (not stopped and len(new_tokens) < len(generated))  # with its end of turn
                confidence = float(torch.exp(token_logprobs[row, :emitted].sum()))
            results[index] = Generation(
                text=text,
                prompt_tokens=len(encoded[index]),
                output_tokens=len(new_tokens),
                seconds=seconds,
                shared_prompt_tokens=prefix_len,
                confidence=confidence,
            )
        if on_batch:
            on_batch(len(batch))
    return results  # type: ignore[return-value]


def _chosen_logprobs(logits: tuple[torch.Tensor, ...], tokens: torch.Tensor) -> torch.Tensor:
    """[rows, steps] log-probability of each generated token under its step's logits (float32)."""
    steps = min(len(logits), tokens.shape[1])
    out = torch.zeros(tokens.shape[0], steps, dtype=torch.float32)
    for step in range(steps):  # one [rows, vocab] log-softmax at a time, never all steps at once
        scores = logits[step].float()
        chosen = tokens[:, step].to(scores.device)[:, None]
        out[:, step] = (scores.gather(-1, chosen).squeeze(-1) - scores.logsumexp(-1)).cpu()
    return out


def computed_prompt_tokens(generations) -> int:
    """Prompt tokens that actually ran through the model: the shared prefix once, then each item's own."""
    shared = max((getattr(g, "shared_prompt_tokens", 0) for g in generations), default=0)
    return shared + sum(g.prompt_tokens - getattr(g, "shared_prompt_tokens", 0) for g in generations)


def can_share_prefix(model) -> bool:
    """A plain causal LM, or a peft model whose adapter changes weights, not the input.

    Prompt and prefix tuning put virtual tokens in front of the prompt, so a cache
    of the prompt's first tokens alone would be wrong for them.
    """
    if not isinstance(model, torch.nn.Module):
        return False  # a wrapper with its own generate (harness.variants.prompt_learning)
    return not has_virtual_tokens(model)
