"""training.launcher: accelerate: a LoRA trained by 2 processes (gloo DDP on the CPU) under `accelerate launch`
follows the loss curve of one process with the same global batch, and its weights come back to the caller."""

from __future__ import annotations

import pytest
import torch
from conftest import make_items

from harness.suite.schema import TrainingSpec

# Same global batch (4 = 2 processes x 2 rows), same rows in the same order, the same initial adapter and no
# dropout: the two runs differ only in how the sums are split and reduced (float32 rounding), far below this.
LOSS_TOLERANCE = 1e-3

SPEC = dict(epochs=1, batch_size=4, learning_rate=1e-3, max_length=128)


def _peft_model(tiny_model_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import set_seed

    from harness.model.loading import load_base

    base = load_base(str(tiny_model_dir))
    set_seed(11)  # the adapter's initial weights: drawn once here, shipped to the launched processes as files
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    return base, get_peft_model(base.model, config, adapter_name="bench_lora")


def _rows():
    from harness.training.sft import prompt_completion_rows

    items = make_items("train", 16)
    return prompt_completion_rows(
        [[{"role": "system", "content": "Classify."}, item["messages"][0]] for item in items],
        [item["messages"][1]["content"] for item in items],
    )


def _lora_weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters() if "lora_" in k}


def test_two_processes_follow_the_loss_curve_of_one(tiny_model_dir, tmp_path):
    from harness.training.launch import train_launched
    from harness.training.sft import train_sft

    base, single = _peft_model(tiny_model_dir)
    initial = _lora_weights(single)
    one = train_sft(single, base.tokenizer, _rows(), spec=TrainingSpec(**SPEC), seed=3, output_dir=tmp_path / "one")

    base, launched = _peft_model(tiny_model_dir)
    assert all(torch.equal(initial[k], v) for k, v in _lora_weights(launched).items()), "same initial adapter"
    two = train_launched(
        launched,
        _rows(),
        spec=TrainingSpec(**SPEC, launcher="accelerate", num_processes=2),
        seed=3,
        output_dir=tmp_path / "two",
        base_source=base.source,
        adapter_name="bench_lora",
    )
    print("step  loss(1 process)  loss(2 processes)")
    for a, b in zip(one.loss_curve, two.loss_curve):
        print(f"{a['step']:>4}  {a['loss']:.6f}         {b['loss']:.6f}")
    assert one.steps == two.steps == 4
    assert [p["step"] for p in one.loss_curve] == [p["step"] for p in two.loss_curve]
    for a, b in zip(one.loss_curve, two.loss_curve):
        assert b["loss"] == pytest.approx(a["loss"], abs=LOSS_TOLERANCE)
    # The trained adapter is back in the caller's model: it moved from its initial weights, as far as one process's.
    trained_one, trained_two = _lora_weights(single), _lora_weights(launched)
    assert any(not torch.equal(initial[k], v) for k, v in trained_two.items())
    assert all(torch.allclose(trained_one[k], v, atol=1e-4) for k, v in trained_two.items())


def test_launcher_settings_are_checked_in_the_suite():
    with pytest.raises(ValueError, match="must split evenly"):
        TrainingSpec(batch_size=5, launcher="accelerate", num_processes=2)
    with pytest.raises(ValueError, match="need launcher: accelerate"):
        TrainingSpec(num_processes=2)
