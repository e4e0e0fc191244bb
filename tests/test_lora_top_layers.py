"""LoRA on the top layers only (``top_layers``): the adapter sits where asked, and nothing below it is backpropagated.

The speed-up the option exists for comes from the second property: a frozen layer
under every adapted one builds no autograd graph, so the backward pass stops at the
lowest adapted layer and no activations are kept for the layers below it.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from safetensors import safe_open

from harness.core.errors import BenchError
from harness.core.files import read_json
from harness.run.recipe import run_suite
from harness.variants.lora import Lora, LoraVariantConfig

TOP_LAYER = "  - {name: lora-top, kind: lora, r: 4, alpha: 8, top_layers: 1}\n"


def adapter_layers(run_dir, variant: str) -> set[str]:
    (saved,) = (run_dir / "variants" / variant / "adapter").rglob("adapter_model.safetensors")
    with safe_open(str(saved), "pt") as weights:
        return {key.split(".layers.")[1].split(".")[0] for key in weights.keys()}


def test_the_adapter_goes_into_the_top_layers_only(tiny_suite, tmp_path):
    tiny_suite.write_text(tiny_suite.read_text() + TOP_LAYER)
    result = run_suite(tiny_suite, tmp_path / "run", only=["lora", "lora-top"])
    variants = read_json(result.run_dir / "results.json")["variants"]
    assert variants["lora-top"]["status"] == "ok" and variants["lora-top"]["training"]["steps"] == 3
    # The tiny model has two decoder layers: every-layer LoRA adapts both, top_layers: 1 only the last.
    assert adapter_layers(result.run_dir, "lora") == {"0", "1"}
    assert adapter_layers(result.run_dir, "lora-top") == {"1"}
    assert variants["lora-top"]["cost"]["trainable_params"] * 2 == variants["lora"]["cost"]["trainable_params"]


def lora_on(model, **options) -> Lora:
    env = SimpleNamespace(base=SimpleNamespace(model=model), suite_file="suite.yaml")
    return Lora(LoraVariantConfig(name="lora-top", **options), env)


def test_layers_below_the_adapter_build_no_autograd_graph(tiny_model_dir):
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    def graph_per_layer(**options) -> list[bool]:
        model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
        peft_model = get_peft_model(model, lora_on(model, **options).peft_config())
        layers = peft_model.get_base_model().model.layers
        kept = []
        hooks = [layer.register_forward_hook(lambda _m, _i, out: kept.append(out[0].requires_grad)) for layer in layers]
        ids = torch.tensor([[1, 2, 3, 4]])
        peft_model(input_ids=ids, labels=ids).loss.backward()
        for hook in hooks:
            hook.remove()
        return kept

    assert graph_per_layer() == [True, True]
    assert graph_per_layer(top_layers=1) == [False, True]


def test_more_top_layers_than_the_model_has_is_refused_with_the_suite_named(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with pytest.raises(BenchError, match="top_layers is 3, but the base model has 2 decoder layers") as err:
        lora_on(model, top_layers=3).peft_config()
    assert "suite.yaml" in err.value.hint
