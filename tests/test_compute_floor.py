"""benchmarks/compute_floor.py: its FLOP counts are lower bounds of the matmul work torch executes, and close to it.

torch's FlopCounterMode counts every matrix product a pass runs. On a tiny Llama
whose body outweighs its head (a 128-token vocabulary), the script's training
and prediction floors must stay below that count (else a "target out of reach"
could be wrong) and within a few percent of it where only LoRA's own small
products and the answer positions' head are left out (else the floor is too
loose to prove anything).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("compute_floor", REPO / "benchmarks" / "compute_floor.py")
compute_floor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compute_floor)

ATTENTION_OPS = ("scaled_dot_product", "flash_attention", "efficient_attention")


def tiny_llama(vocab: int = 128, tied: bool = True, layers: int = 4):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=tied,
        pad_token_id=0,
        eos_token_id=1,
    )
    return LlamaForCausalLM(config)


def matmul_flops(counter: FlopCounterMode) -> int:
    """Every counted product but attention's scores (the script leaves those out by design)."""
    return sum(
        n for op, n in counter.get_flop_counts()["Global"].items() if not any(a in str(op) for a in ATTENTION_OPS)
    )


@pytest.mark.parametrize("tied", [True, False])
def test_body_and_head_leave_out_embedding_and_head(tied):
    model = tiny_llama(tied=tied, layers=2)
    body, head, layers = compute_floor.body_and_head_params(model)
    assert (head, layers) == (128 * 64, 2)
    layer = 64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 128  # q, o; k, v (2 kv heads of 16); the MLP; no norms
    assert body == 2 * layer


def one_step(model, lengths: list[int], shared: int = 0, counts: dict | None = None) -> tuple[int, int]:
    """(tokens that ran, matmul FLOPs executed) of one answer-only training step on right-padded rows whose first
    ``shared`` tokens are the same (a suite's chat template and system prompt); ``counts`` gets the loss's counts."""
    from harness.training.shared_prefix_loss import shared_prefix_loss

    width = max(lengths)
    ids = torch.zeros(len(lengths), width, dtype=torch.long)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    labels = torch.full((len(lengths), width), -100)
    prefix = torch.randint(2, 128, (shared,))
    for row, length in enumerate(lengths):
        ids[row, :length] = torch.randint(2, 128, (length,))
        ids[row, :shared] = prefix
        if not shared:
            ids[row, 0] = 2 + row  # rows differ from their first token: no shared prefix
        mask[row, :length] = 1
        labels[row, length - 3 : length] = ids[row, length - 3 : length]
    counts = {} if counts is None else counts
    with FlopCounterMode(display=False) as counter:
        shared_prefix_loss(
            model, {"input_ids": ids, "attention_mask": mask, "labels": labels}, counts=counts
        ).backward()
    return counts["computed_tokens"], matmul_flops(counter)


@pytest.mark.parametrize("checkpointing", [True, False])
@pytest.mark.parametrize("kind,top_layers", [("lora", None), ("lora", 2), ("full", None)])
def test_training_floor_bounds_a_step(checkpointing, kind, top_layers):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    model = tiny_llama()
    body, _, layers = compute_floor.body_and_head_params(model)
    if kind == "lora":
        targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
        top = list(range(layers - top_layers, layers)) if top_layers else None
        model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=targets, layers_to_transform=top))
        trainable = model.get_nb_trainable_parameters()[0]
    else:
        trainable = sum(p.numel() for p in model.parameters())
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()

    def floor(tokens: int) -> float:
        cost = {"train_computed_tokens": tokens, "trainable_params": trainable}
        config = {"kind": kind, "top_layers": top_layers}
        return compute_floor.training_floor_flops(cost, {"gradient_checkpointing": checkpointing}, config, body, layers)

    tokens, executed = one_step(model, [40, 33, 27, 20])  # padded columns run too, uncounted
    assert tokens == 120
    assert floor(tokens) <= executed
    tokens, executed = one_step(model, [40, 40, 40, 40])
    assert floor(tokens) <= executed
    if top_layers is None:  # (transformers makes the inputs require grad under checkpointing: the layers
        # below the adapted ones may replay and back-propagate too; the floor counts only the adapted ones)
        # Left out: the lowest layer's activation gradients, LoRA's own products, the answers' head.
        # A pass wrongly left out (the replay, the backward) would put the ratio near 0.67 or below.
        assert floor(tokens) >= 0.8 * executed


def test_checkpointed_replay_leaves_out_the_shared_prefix():
    """The shared-prefix pass runs un-checkpointed, so the backward replays only the rows' own tokens: a replay
    counted over every token that ran would exceed what torch executed once the prefix is most of a batch's work."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    model = tiny_llama()
    body, _, layers = compute_floor.body_and_head_params(model)
    model = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    )
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    counts = {}
    lengths = [56, 56, 56, 56]  # 47 tokens once in the prefix pass (one kept back), then 9 of each row's own
    tokens, executed = one_step(model, lengths, shared=48, counts=counts)
    assert (tokens, counts["prefix_tokens"]) == (47 + 4 * 9, 47)
    cost = {"train_computed_tokens": tokens, "trained_tokens": sum(lengths), "trainable_params": 0}
    config, suite = {"kind": "lora"}, {"gradient_checkpointing": True, "batch_size": 4}

    def floor(record: dict) -> float:
        return compute_floor.training_floor_flops(cost, suite, config, body, layers, record)

    recorded = floor({"checkpointed": True, "prefix_tokens": counts["prefix_tokens"]})
    assert recorded <= executed
    assert recorded >= 0.8 * executed
    # A record from before the prefix tokens were kept: the same count, from trained and computed tokens.
    assert floor({}) == recorded
    assert compute_floor.prefix_tokens(cost, suite, {}) == 47
    # The replay counted over the prefix too would claim work that never ran.
    assert floor({"checkpointed": True, "prefix_tokens": 0}) > executed
    # Trained without checkpointing (as the record says): no replay at all.
    assert floor({"checkpointed": False}) < recorded


def generation_flops(model, lengths: list[int], new_tokens: int) -> int:
    """Matmul FLOPs of greedy generation of exactly ``new_tokens`` per row, left-padded as batched generation is."""
    width = max(lengths)
    ids = torch.zeros(len(lengths), width, dtype=torch.long)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, length in enumerate(lengths):
        ids[row, width - length :] = torch.randint(2, 128, (length,))
        mask[row, width - length :] = 1
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        out = model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False
        )
    assert out.shape[1] == width + new_tokens
    return matmul_flops(counter)


def test_inference_floor_bounds_generation():
    torch.manual_seed(0)
    model = tiny_llama().eval()
    body, head, _ = compute_floor.body_and_head_params(model)

    def floor(lengths: list[int]) -> float:
        cost = {"computed_prompt_tokens_mean": sum(lengths) / len(lengths), "output_tokens_mean": 6.0}
        return compute_floor.inference_floor_flops(cost, len(lengths), body, head)

    padded = [12, 20, 31, 40]  # the padding columns run too, uncounted
    assert floor(padded) <= generation_flops(model, padded, 6)
    even = [40, 40, 40, 40]
    executed = generation_flops(model, even, 6)
    assert floor(even) <= executed
    # Left out: nothing but the head of each prompt's last position (counted as the first output's) and
    # attention; counting the body for every output token, the last one included, would exceed ``executed``.
    assert floor(even) >= 0.95 * executed
