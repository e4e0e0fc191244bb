"""QLoRA's LoRA layers get real gradients, also in a run that predicts (docs/design.md §7's silent pitfall).

On a CPU with AVX512-BF16, bitsandbytes 0.50 repacks a 4-bit weight the first
time its layer runs in eval mode without gradients, and backward through it
gives nothing from then on. A run predicts with the base before QLoRA trains,
computes validation losses while it trains, and predicts with QLoRA after.
"""

from __future__ import annotations

import pytest
import torch

from harness.core.files import read_json
from harness.run.recipe import run_suite

bnb = pytest.importorskip("bitsandbytes")

from harness.variants.qlora import (  # noqa: E402
    SilentZeroGradientError,
    _cpu_repacking,
    check_gradients_flow,
    check_quantized_backward,
)


def repacks_on_this_cpu() -> bool:
    from bitsandbytes.functional import has_avx512bf16

    return not torch.cuda.is_available() and has_avx512bf16()


def test_lora_gradients_are_nonzero_in_a_qlora_variant_within_a_run_that_predicts(tiny_suite, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    text = tiny_suite.read_text().split("  - name: few-shot")[0]  # zero-shot predicts first
    # Validation loss after every step: an eval-mode pass between every two training steps.
    tiny_suite.write_text(
        text
        + """\
  - {name: qlora, kind: qlora, r: 4, alpha: 8, training: {eval_every: 1}}
  - {name: qlora-after-prediction, kind: qlora, r: 4, alpha: 8, target_modules: [q_proj, v_proj, down_proj]}
"""
    )
    variants = read_json(run_suite(tiny_suite, tmp_path / "run").run_dir / "results.json")["variants"]
    for name, expected_tensors in (("qlora", 8), ("qlora-after-prediction", 6)):
        record = variants[name]
        assert record["status"] == "ok", record["reason"]
        check = record["training"]["gradient_check"]
        assert check["lora_b_tensors"] == check["lora_b_with_gradient"] == expected_tensors
        assert check["quantized_layers_passing_gradient_after_training"] == 14  # 7 projections x 2 layers
        assert len(record["training"]["eval_curve"]) == (3 if name == "qlora" else 1)
    # The adapter that was saved learned in every layer: no LoRA B is left at its zero start.
    from safetensors.torch import load_file

    adapter = next((tmp_path / "run" / "variants" / "qlora" / "adapter").rglob("adapter_model.safetensors"))
    lora_b = {k: v for k, v in load_file(adapter).items() if "lora_B" in k}
    assert len(lora_b) == 8 and all(v.abs().sum() > 0 for v in lora_b.values())


def load_tiny_4bit(model_dir):
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    model = AutoModelForCausalLM.from_pretrained(model_dir, quantization_config=quantization)
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))


def probe_batch():
    ids = torch.tensor([[1, 17, 230, 4056, 88, 9, 1200, 3]])
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}


def predict_once(model):
    model.eval()
    with torch.inference_mode():
        model(input_ids=probe_batch()["input_ids"])


@pytest.mark.skipif(not repacks_on_this_cpu(), reason="the repacking pitfall exists only on CPUs with AVX512-BF16")
def test_the_probe_catches_a_model_that_predicted_before_training(tiny_model_dir):
    model = load_tiny_4bit(tiny_model_dir)
    assert check_gradients_flow(model, probe_batch(), when="fresh")["with_gradient"] == 4
    predict_once(model)
    with pytest.raises(SilentZeroGradientError, match="4 of 4 LoRA B matrices got no gradient after predicting"):
        check_gradients_flow(model, probe_batch(), when="after predicting")


@pytest.mark.skipif(not repacks_on_this_cpu(), reason="the repacking pitfall exists only on CPUs with AVX512-BF16")
def test_a_repack_during_training_is_caught_after_training_even_when_lora_gradients_flow(tiny_model_dir):
    """Once B is non-zero, gradients reach q and v through o_proj's LoRA branch: only the layer probe can tell."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quantization = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
    )
    model = prepare_model_for_kbit_training(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir, quantization_config=quantization),
        use_gradient_checkpointing=False,
    )
    model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj", "o_proj"], task_type="CAUSAL_LM"))
    assert check_quantized_backward(model, when="fresh") == 14
    with torch.no_grad():  # as if trained for a while
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.01)
    predict_once(model)  # a validation pass with repacking left on
    assert check_gradients_flow(model, probe_batch(), when="after training")["with_gradient"] == 6  # fooled
    with pytest.raises(SilentZeroGradientError, match="14 of 14 4-bit layers pass no gradient"):
        check_quantized_backward(model, when="after training")


@pytest.mark.skipif(not repacks_on_this_cpu(), reason="the repacking pitfall exists only on CPUs with AVX512-BF16")
def test_switching_repacking_off_keeps_gradients_through_eval_passes(tiny_model_dir):
    model = load_tiny_4bit(tiny_model_dir)
    with _cpu_repacking(model, enabled=False):
        predict_once(model)  # what a validation pass does in the middle of training
        assert check_gradients_flow(model, probe_batch(), when="after an eval pass")["with_gradient"] == 4
        assert check_quantized_backward(model, when="after an eval pass") == 14
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers and all(m.support_avx512bf16_for_cpu for m in layers), "restored for fast prediction after training"
