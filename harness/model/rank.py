"""Classification by log-likelihood: each prompt read once, every candidate answer scored on its KV cache.

For every conversation the model scores each candidate answer (for a suite: the
answer format filled with each label) and the most likely one is the
prediction. The tokens every prompt starts with (the system prompt: about half
of a legal_classifier prompt) run once for all items, as in generate mode; then,
per batch of B prompts and C candidates:

1. one pass over the prompts' own tokens on a copy of that prefix cache, padded
   between the prefix and each row's tokens, with explicit position ids (so
   padding does not shift positions) and the cache kept; only the last few
   logits are computed;
2. one short pass over the rest of every candidate's tokens, for all B prompts
   on that same cache: the candidates sit side by side in the pass, each at the
   positions that carry on from its prompt, and a 4D attention mask lets each
   token see its prompt and its own candidate's earlier tokens, never another
   candidate's (a tree of answers over one prompt). The cache is cropped back
   after it. Up to ``CANDIDATE_PASS_TOKENS`` tokens go in one pass; more
   candidates take more passes. Where the attention implementation takes no
   4D mask (flash-attention kernels), each candidate gets a pass of its own.

Why one pass and not one per candidate: each pass over a few tokens per row
reads every weight and appends to every layer's cache, whatever it feeds; on
legal_classifier's 8 labels the 8 passes took a quarter of rank mode's time
(benchmarks/README.md). Why not the cache repeated once per candidate: that
held C x B prompt caches at once (7.8 GB peak on 32 legal prompts in fp32).

An lm-eval style scorer runs the whole prompt again for each candidate; here the
shared prefix is computed once per run, each prompt once, and the candidate
passes are a few tokens per row.

Which tokens are scored, and why:
- A candidate's tokens are the completion tokens trl trains on for a
  conversational prompt/completion pair: the chat template over prompt + answer,
  minus the prompt rendered with the generation prompt; kept up to and including
  the end-of-turn token (the tokenizer's eos), and nothing after it (SmolLM2's
  template adds a newline). Keeping end-of-turn scores the *complete* answer, so a
  label that is a prefix of another ("sale" and "sale_of_goods") does not win for
  being shorter, and it is where greedy generation stops.
- Tokens every candidate starts with ("contract_type:") score the same for every
  candidate. They are appended to the prompt and scored from the prompt pass, so
  the candidate pass runs only over the tokens where candidates differ.
- A candidate's first differing token is scored by the prompt pass's last
  logits; its last token is never fed (nothing is predicted from it).
"""

from __future__ import annotations

import copy
import functools
import inspect
import time
from dataclasses import dataclass
from typing import Callable

import torch

from harness.core.allocator import returning_pages_between
from harness.core.errors import BenchError
from harness.model.batches import bounded_batches
from harness.model.generate import MIN_SHARED_PREFIX, can_share_prefix, encode_prompts, shared_prefix_length
from harness.model.lm_head import with_contiguous_head_input


@dataclass(frozen=True)
class Ranking:
    """One conversation's pick; the first four fields mean what they mean in ``harness.model.generate.Generation``."""

    text: str  # the chosen candidate
    prompt_tokens: int
    output_tokens: int  # tokens of the chosen answer, end-of-turn excluded (as generate counts them)
    seconds: float  # this item's share of its batch's wall time
    choice: int  # index of the chosen candidate; ties go to the first
    loglikelihoods: tuple[float, ...]  # summed log-probability of each candidate's tokens, in candidate order
    shared_prompt_tokens: int = 0  # leading prompt tokens served from the prefix cache all items share

    @property
    def probabilities(self) -> tuple[float, ...]:
        """Each candidate's probability given that the answer is one of the candidates: a softmax over
        ``loglikelihoods`` (they sum to 1; the raw likelihoods do not, as other texts take the rest)."""
        return label_probabilities(self.loglikelihoods)

    @property
    def confidence(self) -> float:
        """The chosen candidate's probability among the candidates (harness/stats/calibration.py reads it)."""
        return self.probabilities[self.choice]


def label_probabilities(loglikelihoods: tuple[float, ...] | list[float]) -> tuple[float, ...]:
    """Softmax of summed log-likelihoods, computed stably (the largest is subtracted first)."""
    scores = torch.tensor(loglikelihoods, dtype=torch.float64)
    return tuple(torch.softmax(scores, dim=0).tolist())


def choice_token_ids(tokenizer, conversation: list[dict], choices: list[str]) -> list[list[int]]:
    """Each choice's tokens as training sees them when it completes ``conversation`` (see the module notes).

    Computed on one conversation and used for all: a chat template renders the
    assistant turn the same whatever came before it.
    """
    prompt = encode_prompts(tokenizer, [conversation])[0]
    candidates = []
    for choice in choices:
        full = tokenizer.apply_chat_template(
            conversation + [{"role": "assistant", "content": choice}], tokenize=True, return_dict=True
        )["input_ids"]
        if full[: len(prompt)] != prompt:
            raise BenchError(
                "rank mode needs the chat template to render the prompt the same with and without an answer",
                hint="this tokenizer's template changes the prompt once an answer follows; use inference.mode: generate",
            )
        ids = full[len(prompt) :]
        if tokenizer.eos_token_id in ids:
            ids = ids[: ids.index(tokenizer.eos_token_id) + 1]
        if not ids:
            raise BenchError(f"candidate answer {choice!r} has no tokens after the prompt")
        candidates.append(ids)
    return candidates


@with_contiguous_head_input
@torch.inference_mode()
def rank_choices(
    model,
    tokenizer,
    conversations: list[list[dict]],
    choices: list[str],
    *,
    batch_size: int,
    max_batch_tokens: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> list[Ranking]:
    """The most likely of ``choices`` for each conversation, with every choice's log-likelihood.

    ``max_batch_tokens``: prompts x (prompt + longest choice tokens) per batch, each prompt's cache held once
    and shared by its choices (model/batches.py)."""
    if not callable(model):
        raise TypeError(
            f"rank mode needs a model with a forward pass; got {type(model).__name__}, which only "
            "generates (prompt_tuning and prefix_tuning variants predict in generate mode)"
        )
    if not choices:
        raise ValueError("rank_choices needs at least one choice")
    if not conversations:
        return []
    encoded = encode_prompts(tokenizer, conversations)
    candidates = choice_token_ids(tokenizer, conversations[0], choices)
    shared = _common_prefix(candidates)
    tails = [c[len(shared) :] for c in candidates]
    eos = tokenizer.eos_token_id
    answer_tokens = [len(c) - (c[-1] == eos) for c in candidates]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    device = next(model.parameters()).device
    started = time.perf_counter()
    prefix = _shared_prefix(model, encoded, device)
    prefix_seconds = (time.perf_counter() - started) / len(encoded)  # shared by every item
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    results: list[Ranking | None] = [None] * len(encoded)
    passes = _candidate_passes(tails, one_per_pass=not _takes_4d_masks(model))
    pass_tokens = max(sum(len(tails[c]) - 1 for c in group) for group in passes) if passes else 0
    batches = bounded_batches(
        order,
        max_rows=batch_size,
        max_tokens=max_batch_tokens,
        row_tokens=lambda i: len(encoded[i]) + len(shared) + 1 + pass_tokens,
    )
    for batch in returning_pages_between(batches):  # core/allocator.py: no page faults inside a batch
        started = time.perf_counter()
        scores = _score_batch(
            model, [encoded[i][prefix.length :] + shared for i in batch], prefix, shared, tails, passes, pad_id=pad_id
        )
        seconds = (time.perf_counter() - started) / len(batch) + prefix_seconds
        for row, index in enumerate(batch):
            lls = tuple(scores[row].tolist())
            best = lls.index(max(lls))  # the first of equal maxima
            results[index] = Ranking(
                text=choices[best],
                prompt_tokens=len(encoded[index]),
                output_tokens=answer_tokens[best],
                seconds=seconds,
                choice=best,
                loglikelihoods=lls,
                shared_prompt_tokens=prefix.length,
            )
        if on_batch:
            on_batch(len(batch))
    return results  # type: ignore[return-value]


@dataclass(frozen=True)
class _Prefix:
    """The prompt tokens every item starts with, run once: their count and key/value cache (None when none)."""

    length: int
    cache: object | None
    device: torch.device

    def batch_cache(self, model, rows: int):
        """A cache for a batch of ``rows`` prompts: the prefix's repeated per row, or a fresh one without a prefix."""
        if self.cache is None:
            return _new_cache(model)
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(rows)
        return cache


def _shared_prefix(model, encoded: list[list[int]], device) -> _Prefix:
    length = shared_prefix_length(encoded) if can_share_prefix(model) else 0
    if length < MIN_SHARED_PREFIX:
        return _Prefix(0, None, device)
    cache = _new_cache(model)
    model(
        input_ids=torch.tensor([encoded[0][:length]], device=device),
        use_cache=True,
        logits_to_keep=1,
        **{_cache_keyword(): cache},
    )
    return _Prefix(length, cache, device)


def _common_prefix(candidates: list[list[int]]) -> list[int]:
    """Tokens every candidate starts with, leaving each candidate at least one token of its own."""
    limit = min(len(c) for c in candidates) - 1
    n = 0
    while n < limit and all(c[n] == candidates[0][n] for c in candidates):
        n += 1
    return candidates[0][:n]


def _score_batch(
    model,
    prompts: list[list[int]],
    prefix: _Prefix,
    shared: list[int],
    tails: list[list[int]],
    passes: list[list[int]],
    *,
    pad_id: int,
) -> torch.Tensor:
    """Summed log-probabilities, [len(prompts), len(tails)]: ``prompts`` are what follows ``prefix``, with
    ``shared`` already on each; then each tail, the tails of one of ``passes`` (candidate indices) in one pass."""
    n_prompts, n_shared = len(prompts), len(shared)
    device = prefix.device
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (width - len(p)) + p for p in prompts], device=device)
    # Padding sits between the prefix and each row's own tokens; the mask covers the prefix too.
    mask = torch.tensor([[1] * prefix.length + [0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, prefix.length :]  # padding shifts no position
    cache = prefix.batch_cache(model, n_prompts)
    # Logits only where something is scored: the shared tokens and the first tail token.
    logits = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=positions,
        use_cache=True,
        logits_to_keep=n_shared + 1,
        **{_cache_keyword(): cache},
    ).logits
    logprobs = _log_softmax(logits)  # [n_prompts, n_shared + 1, vocab]
    firsts = torch.tensor([t[0] for t in tails], device=device)
    scores = logprobs[:, -1, firsts]  # [n_prompts, n_tails]
    if n_shared:
        shared_ids = torch.tensor(shared, device=device).expand(n_prompts, -1)
        scores = scores + logprobs[:, :-1].gather(-1, shared_ids[..., None]).squeeze(-1).sum(-1, keepdim=True)
    lengths = mask.sum(-1)  # each prompt's tokens, prefix included: where its candidates' positions carry on
    for group in passes:
        scores[:, group] += _tails_loglikelihoods(model, cache, mask, lengths, [tails[c] for c in group])
    return scores.float().cpu()


CANDIDATE_PASS_TOKENS = 32  # candidate tokens fed in one pass: its logits are rows x this x vocabulary floats


def _candidate_passes(tails: list[list[int]], *, one_per_pass: bool) -> list[list[int]]:
    """Candidates (indices) grouped into passes of at most ``CANDIDATE_PASS_TOKENS`` fed tokens, in order;
    a longer candidate gets a pass alone, and a one-token candidate none (the prompt pass scored it)."""
    passes: list[list[int]] = []
    fed = 0
    for column, tail in enumerate(tails):
        tokens = len(tail) - 1  # the last token is only predicted, never fed
        if not tokens:
            continue
        if not passes or one_per_pass or fed + tokens > CANDIDATE_PASS_TOKENS:
            passes.append([])
            fed = 0
        passes[-1].append(column)
        fed += tokens
    return passes


def _takes_4d_masks(model) -> bool:
    """Whether the attention reads a custom [rows, 1, queries, keys] mask (sdpa and eager do; flash kernels
    take padding masks only)."""
    return _attention_implementation(model) in ("sdpa", "eager")


def _attention_implementation(model) -> str | None:
    return getattr(getattr(model, "config", None), "_attn_implementation", None)


def _tails_loglikelihoods(
    model, cache, mask: torch.Tensor, lengths: torch.Tensor, tails: list[list[int]]
) -> torch.Tensor:
    """Summed log-probabilities of each ``tail[1:]`` after every prompt in ``cache``, all tails in one pass,
    [rows, len(tails)]; the cache is left as it was."""
    rows, device = mask.shape[0], mask.device
    feeds = [tail[:-1] for tail in tails]  # the last token is only predicted, never fed
    fed = sum(len(feed) for feed in feeds)
    owner = torch.tensor([c for c, feed in enumerate(feeds) for _ in feed], device=device)
    offset = torch.tensor([j for feed in feeds for j in range(len(feed))], device=device)
    positions = lengths[:, None] + offset  # each candidate carries on from its prompt's own length
    if len(tails) == 1:
        attention = torch.cat([mask, mask.new_ones(rows, fed)], dim=1)  # plain causal over one candidate
    else:
        attention = _tree_mask(model, mask, owner, offset)
    logits = model(
        input_ids=torch.tensor([t for feed in feeds for t in feed], device=device).expand(rows, -1),
        attention_mask=attention,
        position_ids=positions,
        use_cache=True,
        **{_cache_keyword(): cache},
    ).logits.float()
    cache.crop(-fed)  # negative: drop the tokens just added (every transformers version reads it so)
    targets = torch.tensor([t for tail in tails for t in tail[1:]], device=device).expand(rows, -1)
    # log-softmax at the targets only: the full [rows, fed, vocab] log-softmax is never materialised
    token_lls = logits.gather(-1, targets[..., None]).squeeze(-1) - logits.logsumexp(-1)
    return token_lls.new_zeros(rows, len(tails)).index_add_(1, owner, token_lls)


def _tree_mask(model, mask: torch.Tensor, owner: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """[rows, 1, fed, cached + fed]: a fed token sees its prompt's tokens (``mask``) and the earlier tokens of
    its own candidate; boolean for sdpa, additive (0 or the dtype's minimum) for eager attention, as each
    reads a mask."""
    rows, fed = mask.shape[0], owner.shape[0]
    own = (owner[:, None] == owner[None, :]) & (offset[None, :] <= offset[:, None])  # [fed, fed]
    seen = torch.cat([mask.bool()[:, None, :].expand(rows, fed, -1), own.expand(rows, fed, fed)], dim=-1)
    seen = seen[:, None]
    if _attention_implementation(model) == "sdpa":
        return seen
    dtype = model.get_input_embeddings().weight.dtype
    return torch.zeros(seen.shape, dtype=dtype, device=mask.device).masked_fill_(~seen, torch.finfo(dtype).min)


def _log_softmax(logits: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(logits.float(), dim=-1)  # in float32 whatever the model's dtype


def _new_cache(model):
    from transformers import DynamicCache

    return DynamicCache(config=getattr(model, "config", None))


@functools.cache
def _cache_keyword() -> str:
    # transformers 5 renamed the forward argument ``past_key_values`` to ``cache`` (the old name is deprecated).
    from transformers import LlamaForCausalLM

    return "cache" if "cache" in inspect.signature(LlamaForCausalLM.forward).parameters else "past_key_values"
