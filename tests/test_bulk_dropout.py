"""LoRA's bulk-drawn dropout (harness/training/dropout.py): torch's dropout in distribution, fixed by torch's seed,
and the same mask in gradient checkpointing's recompute, so the gradient is the one without checkpointing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from harness.training.dropout import LEVELS, BulkMaskDropout, bulk_mask_dropout


def test_it_drops_the_asked_fraction_and_keeps_the_expectation():
    dropout = BulkMaskDropout(0.3).train()
    ones = torch.ones(400, 1000)
    torch.manual_seed(0)
    out = dropout(ones)
    kept_fraction = dropout.keep_below / LEVELS
    values = out.unique().tolist()
    assert len(values) == 2 and values[0] == 0.0 and values[1] == pytest.approx(1 / kept_fraction)
    # 400,000 draws: the kept share's standard error is 0.0007.
    assert (out > 0).float().mean().item() == pytest.approx(0.7, abs=0.004)
    assert out.mean().item() == pytest.approx(1.0, abs=0.006)


def test_torch_seed_fixes_the_mask_and_each_call_draws_a_new_one():
    dropout = BulkMaskDropout(0.5).train()
    x = torch.randn(64, 64)
    torch.manual_seed(1)
    first, second = dropout(x), dropout(x)
    torch.manual_seed(1)
    assert torch.equal(dropout(x), first)
    assert not torch.equal(first, second)


def test_in_evaluation_it_passes_the_input_through():
    x = torch.randn(8, 8)
    assert torch.equal(BulkMaskDropout(0.5).eval()(x), x)


def test_the_gradient_flows_through_the_kept_elements_only():
    dropout = BulkMaskDropout(0.5).train()
    x = torch.randn(32, 32, requires_grad=True)
    out = dropout(x)
    out.sum().backward()
    assert torch.equal(x.grad, (out != 0).float() * 2.0)


def _tiny_lora(dropout: float):
    from peft import LoraConfig, get_peft_model
    from tiny_model import random_tiny_llama

    base, tokenizer = random_tiny_llama(initializer_range=0.2)
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        lora_dropout=dropout,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
        init_lora_weights=False,  # B non-zero: the dropped input reaches the loss
    )
    return get_peft_model(base, config), tokenizer


def test_peft_dropouts_are_swapped_for_the_block_and_given_back():
    model, _ = _tiny_lora(0.1)
    originals = [m for m in model.modules() if type(m) is nn.Dropout]
    assert len(originals) == 8  # 2 layers x q, k, v, o
    with bulk_mask_dropout(model) as swapped:
        assert swapped == 8
        assert not any(type(m) is nn.Dropout for m in model.modules())
        assert sum(isinstance(m, BulkMaskDropout) for m in model.modules()) == 8
    assert [m for m in model.modules() if type(m) is nn.Dropout] == originals


def test_without_dropout_there_is_nothing_to_swap():
    model, _ = _tiny_lora(0.0)
    with bulk_mask_dropout(model) as swapped:
        assert swapped == 0


def _lora_gradients(checkpointing: bool) -> dict[str, torch.Tensor]:
    model, tokenizer = _tiny_lora(0.5)
    model.train()
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    ids = tokenizer(["a note about bricks and mortar", "rain and clouds all day long"], padding=True).input_ids
    ids = torch.tensor(ids)
    with bulk_mask_dropout(model):
        torch.manual_seed(7)
        model(input_ids=ids, labels=ids).loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def test_checkpointing_replays_each_layer_with_the_mask_of_its_first_forward():
    plain, checkpointed = _lora_gradients(False), _lora_gradients(True)
    assert plain.keys() == checkpointed.keys() and len(plain) == 16
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], msg=name)


def test_training_runs_with_the_bulk_dropout_and_leaves_peft_s_own(tmp_path):
    from harness.suite.schema import TrainingSpec
    from harness.training.sft import train_sft

    model, tokenizer = _tiny_lora(0.1)
    seen = []
    rows = [
        {
            "prompt": [{"role": "user", "content": f"note {i}"}],
            "completion": [{"role": "assistant", "content": f"kind: {'ab'[i % 2]}"}],
        }
        for i in range(4)
    ]

    def on_step(step, total):
        seen.append(sum(isinstance(m, BulkMaskDropout) for m in model.modules()))

    record = train_sft(
        model,
        tokenizer,
        rows,
        spec=TrainingSpec(max_steps=2, batch_size=2),
        seed=0,
        output_dir=tmp_path,
        on_step=on_step,
    )
    assert record.steps == 2 and seen == [8, 8]
    assert sum(type(m) is nn.Dropout for m in model.modules()) == 8
