"""The training loss, computed without repeating the prompt every row shares.

Every training row of a suite starts with the same tokens: the chat template's
opening and the suite's system prompt (101 of the 198 tokens of an average
legal_classifier row). In a batch of eight, trl runs those tokens eight times.
Here they run once per batch: the shared prefix goes through the model as a
batch of one, its key/value cache is repeated for every row (``repeat_interleave``
is differentiable, so each row's gradient flows back into the one prefix pass),
and then only each row's own tokens run, attending to that cache.

The answer-only loss then projects through the LM head only the positions that
predict an answer token (about 8 of 250 per row), where trl's fused head on a
CPU scores every position and throws most away.

Under gradient checkpointing (``training.gradient_checkpointing``) the prefix
pass runs without it (one short row: little to keep), and the row pass
checkpoints each decoder layer while reading the prefix cache read-only, so the
backward's replay of a layer sees the same keys and values as its first run
(transformers drops a cache under checkpointing unless the layer only reads it).

Prompt and prefix tuning (peft's virtual tokens) take the same path: their
virtual tokens are part of the prefix every row shares, so the prefix pass runs
them once (prompt tuning: the learned embeddings in front of the prefix's
tokens; prefix tuning: the learned keys and values as the cache the prefix's
tokens attend to), with their gradient flowing back from every row, and each
row's positions carry on after them, as peft's own forward numbers them.

The loss equals trl's to float rounding (tests/test_shared_prefix_loss.py checks
loss and gradients, with and without checkpointing, for LoRA, IA3, a full
fine-tune and both kinds of virtual tokens). So prompt and prefix tuning train
checkpointed like the rest (training/sft.py). With LoRA dropout the prefix shares one dropout mask
across the batch instead of one per row; the expected gradient is the same.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F

from harness.model.generate import MIN_SHARED_PREFIX
from harness.model.virtual_tokens import has_virtual_tokens


def shared_prefix_loss(model, inputs: dict, num_items_in_batch=None, counts: dict | None = None) -> torch.Tensor | None:
    """The mean answer-token loss of a right-padded batch; None when this model needs trl's own path.

    ``counts["computed_tokens"]``, when given, grows by the tokens that ran through
    the model (the prefix once, then each row's own non-padding tokens), and
    ``counts["prefix_tokens"]`` by the prefix pass's share of them, which no
    checkpointed layer replays."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    virtual = _virtual_tokens(model)
    if virtual == "other":
        return None  # a prompt-learning method this loss does not reproduce (p-tuning, multitask): trl's path
    backbone = getattr(base, base.base_model_prefix, None)
    lm_head = base.get_output_embeddings()
    if backbone is None or lm_head is None:
        return None

    input_ids, attention, labels = inputs["input_ids"], inputs["attention_mask"], inputs["labels"]
    rows, width = input_ids.shape
    prefix = _shared_prefix_length(input_ids, attention, labels)
    if prefix < MIN_SHARED_PREFIX or rows < 2:
        prefix = 0

    n_virtual = model.active_peft_config.num_virtual_tokens if virtual else 0
    cache = None
    checkpointed = [layer for layer in backbone.modules() if getattr(layer, "gradient_checkpointing", False)]
    if prefix or n_virtual:
        # One row through the prefix, with the cache kept (and its autograd graph).
        with _layer_flags(checkpointed, gradient_checkpointing=False):
            cache = _prefix_cache(model, base, backbone, input_ids[:1, :prefix], virtual, n_virtual)
        cache.batch_repeat_interleave(rows)
        _read_only(cache)
    positions = torch.arange(n_virtual + prefix, n_virtual + width, device=input_ids.device).expand(rows, -1)
    if n_virtual:  # every row attends to the virtual tokens, as peft's forward extends the mask
        attention = torch.cat([attention.new_ones(rows, n_virtual), attention], dim=1)
    with _layer_flags(checkpointed, _can_checkpoint_with_cache=True):
        hidden = backbone(
            input_ids=input_ids[:, prefix:],
            attention_mask=attention,
            position_ids=positions,
            cache=cache,
            # The layers read the prefix cache whatever this says; True would only ask for it back, which
            # transformers refuses under checkpointing with a warning that misleads a reader of bench.log.
            use_cache=False,
        ).last_hidden_state

    if counts is not None:
        prefix_ran = prefix + (n_virtual if virtual == "prompt" else 0)
        counts["computed_tokens"] = (
            counts.get("computed_tokens", 0) + prefix_ran + int(attention[:, n_virtual + prefix :].sum())
        )
        counts["prefix_tokens"] = counts.get("prefix_tokens", 0) + prefix_ran
    # Position t predicts token t + 1. No label falls inside the prefix (checked above),
    # so the prefix's own predictions carry no loss and are never projected.
    targets = labels[:, prefix + 1 :]
    scored = targets != -100
    logits = lm_head(hidden[:, :-1][scored])
    loss_sum = F.cross_entropy(logits.float(), targets[scored], reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else scored.sum().clamp(min=1)
    return loss_sum / torch.as_tensor(count, device=loss_sum.device)


def may_checkpoint(model) -> bool:
    """Whether training through this loss may checkpoint the model's layers (training/sft.py): it has no virtual
    tokens, or prompt or prefix tuning's, which run in the un-checkpointed prefix pass and are only read by the
    checkpointed layers. Other virtual tokens take trl's path, where a checkpointed layer would drop them."""
    return _virtual_tokens(model) != "other"


def _virtual_tokens(model) -> str | None:
    """None (no virtual tokens), "prompt" (prompt tuning), "prefix" (prefix tuning) or "other"."""
    if not has_virtual_tokens(model):
        return None
    from peft import PeftType

    config = model.active_peft_config
    if getattr(config, "num_transformer_submodules", 1) != 1:
        return "other"  # encoder-decoder: not a causal LM's single stack
    return {PeftType.PROMPT_TUNING: "prompt", PeftType.PREFIX_TUNING: "prefix"}.get(config.peft_type, "other")


def _prefix_cache(model, base, backbone, prefix_ids: torch.Tensor, virtual: str | None, n_virtual: int):
    """The key/value cache of one row's shared prefix, its virtual tokens first, with its autograd graph."""
    length = prefix_ids.shape[1]
    ones = prefix_ids.new_ones(1, n_virtual + length)
    if virtual == "prompt":  # the learned embeddings, then the prefix's own, as peft concatenates them
        embeds = base.get_input_embeddings()(prefix_ids)
        embeds = torch.cat([model.get_prompt(batch_size=1).to(embeds.dtype), embeds], dim=1)
        return backbone(inputs_embeds=embeds, attention_mask=ones, use_cache=True).cache
    if virtual == "prefix":  # the learned keys and values are the cache the prefix's tokens attend to
        cache = model.get_prompt(batch_size=1, max_cache_len=n_virtual + length)
        if length:
            positions = torch.arange(n_virtual, n_virtual + length, device=prefix_ids.device)[None]
            cache = backbone(
                input_ids=prefix_ids, attention_mask=ones, position_ids=positions, cache=cache, use_cache=True
            ).cache
        return cache
    return backbone(input_ids=prefix_ids, attention_mask=ones, use_cache=True).cache


def _shared_prefix_length(input_ids: torch.Tensor, attention: torch.Tensor, labels: torch.Tensor) -> int:
    """Leading columns identical in every row, attended everywhere and not scored, minus one.

    One token is kept back so that every row's own part starts with a real token
    and the last prefix token's prediction (which may be scored) is made in the
    row pass.
    """
    same = (input_ids == input_ids[:1]).all(dim=0) & attention.bool().all(dim=0) & (labels == -100).all(dim=0)
    if not bool(same[0]):
        return 0
    differing = (~same).nonzero()
    length = int(differing[0]) if len(differing) else input_ids.shape[1]
    return max(length - 1, 0)


@contextmanager
def _layer_flags(layers: list, **flags):
    """Set attributes on these layer instances for the block, then put back what they were."""
    missing = object()
    saved = [{name: layer.__dict__.get(name, missing) for name in flags} for layer in layers]
    for layer in layers:
        for name, value in flags.items():
            setattr(layer, name, value)
    try:
        yield
    finally:
        for layer, before in zip(layers, saved):
            for name, value in before.items():
                if value is missing:
                    layer.__dict__.pop(name, None)
                else:
                    setattr(layer, name, value)


def _read_only(cache) -> None:
    """Make every layer of ``cache`` return prefix + new keys/values without storing the new ones.

    The row pass then leaves the cache as the prefix pass made it, which is what a checkpointed
    layer's replay in the backward pass must find again.
    """
    for layer in cache.layers:
        keys, values = layer.keys, layer.values

        def update(key_states, value_states, *args, _keys=keys, _values=values, **kwargs):
            return torch.cat([_keys, key_states], dim=-2), torch.cat([_values, value_states], dim=-2)

        layer.update = update
