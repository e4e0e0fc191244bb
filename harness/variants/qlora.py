"""QLoRA (Dettmers et al., 2023): LoRA trained on a 4-bit NF4 copy of the base, through bitsandbytes.

The shared base is full precision, so QLoRA loads its own quantised copy (NF4
weights, double-quantised scales, bf16 compute) and frees it after predicting;
the shared base is parked meanwhile (model/parking.py).

The silent zero-gradient pitfall (docs/design.md §7). On a CPU with AVX512-BF16,
bitsandbytes 0.50 repacks a 4-bit weight into a faster layout the first time its
layer runs in eval mode on an input without gradient: the validation loss the
trainer computes every ``eval_every`` steps, or any prediction. From then on
the matmul has no backward, so every LoRA layer whose gradient passes through a
4-bit layer (all of q/k/v, gate/up) silently stops learning; training only warns.
Three defences, in order:
- the model is loaded fresh and trained before anything predicts with it;
- repacking is switched off while training (``_cpu_repacking``), so validation
  passes in the middle of training leave the weights as they were;
- probes before and after training fail the variant with SilentZeroGradientError:
  ``check_gradients_flow`` (one forward/backward; every LoRA B matrix must get a
  non-zero gradient, which while B is still zero can only come through the
  4-bit layers) and ``check_quantized_backward`` (every 4-bit layer must pass a
  gradient to its input). Once B has moved, gradients also reach q/k/v through
  the LoRA branch of o_proj, so only the second probe can tell, after
  training, that the 4-bit path went dead (repacking is sticky, so it sees a
  repack from any point of training).
The probes' figures are recorded in the variant's training history.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
from typing import Iterator, Literal

from pydantic import Field

from harness.variants.base import VariantSkipped, register
from harness.variants.lora import Lora, LoraVariantConfig


class QLoraVariantConfig(LoraVariantConfig):
    kind: Literal["qlora"] = "qlora"  # type: ignore[assignment]
    quant_type: Literal["nf4", "fp4"] = Field(default="nf4", description="4-bit data type; NF4 is the paper's")
    double_quant: bool = Field(default=True, description="quantise the quantisation scales too (saves ~0.4 bit/weight)")
    compute_dtype: Literal["bfloat16", "float16", "float32"] = Field(
        default="bfloat16", description="dtype the 4-bit weights are dequantised to for each matmul"
    )


# The gradient probe's batch (QLora._probe_batch): enough to reach every layer, small beside a training step.
PROBE_ROWS, PROBE_TOKENS = 2, 48


class SilentZeroGradientError(RuntimeError):
    """LoRA layers on a 4-bit base got no gradient: training would have learned nothing."""


@register
class QLora(Lora):
    kind = "qlora"
    Config = QLoraVariantConfig
    # Merging into 4-bit weights re-quantises them, so merged predictions differ
    # by design; the merge check is for adapters on full-precision bases.
    mergeable = False
    # Its own 4-bit copy of the base: the shared full-precision one is parked meanwhile (model/parking.py),
    # so QLoRA's memory is the 4-bit copy's, below LoRA's.
    uses_shared_base = False

    def model_to_adapt(self):
        from peft import prepare_model_for_kbit_training

        model = self._load_quantized()  # fresh: nothing has predicted with it yet
        # Checkpointing is the trainer's to switch on (training.gradient_checkpointing), as for LoRA.
        return prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)

    def train_adapter(self, peft_model, workdir, *, seed: int) -> dict:
        probe = self._probe_batch()
        with _cpu_repacking(peft_model, enabled=False):
            before = check_gradients_flow(peft_model, probe, when="before training")
            check_quantized_backward(peft_model, when="before training")
            training = self.train(peft_model, workdir, seed=seed).to_json()
            layers = check_quantized_backward(peft_model, when="after training")
        training["gradient_check"] = {
            "lora_b_tensors": before["tensors"],
            "lora_b_with_gradient": before["with_gradient"],
            "quantized_layers_passing_gradient_after_training": layers,
        }
        return training

    def after_training(self, peft_model) -> None:
        # The 4-bit copy is this variant's own: keep the adapter on it and predict with it next.
        peft_model.eval()
        self._model = peft_model

    def model_cost(self, peft_model) -> dict:
        return {"compute_dtype": self.config.compute_dtype, "weights_mb": peft_model.get_memory_footprint() / 2**20}

    @contextlib.contextmanager
    def activated(self, workdir=None) -> Iterator:
        model = getattr(self, "_model", None)
        if model is None:  # predicting again (a second check): a fresh 4-bit copy with the saved adapter
            from peft import PeftModel

            model = PeftModel.from_pretrained(
                self._load_quantized(), self.saved_adapter(workdir or self._workdir), adapter_name=self.adapter_name
            )
            model.eval()
        self._model = None
        try:
            yield model
        finally:
            del model  # the 4-bit copy is this variant's alone: free it for the next variant
            gc.collect()

    def _load_quantized(self):
        if not bitsandbytes_available():
            raise VariantSkipped("QLoRA needs bitsandbytes, which is not installed: pip install 'bench-harness[qlora]'")
        import torch
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig

        c = self.config
        quantization = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=c.quant_type,
            bnb_4bit_use_double_quant=c.double_quant,
            bnb_4bit_compute_dtype=getattr(torch, c.compute_dtype),
        )
        placement = {"device_map": {"": torch.cuda.current_device()}} if torch.cuda.is_available() else {}
        try:
            model = AutoModelForCausalLM.from_pretrained(
                self.env.base.source,
                quantization_config=quantization,
                use_safetensors=True,
                trust_remote_code=self.env.base_model_spec.trust_remote_code,
                **placement,
            )
        except (ImportError, NotImplementedError, RuntimeError) as exc:
            raise VariantSkipped(
                f"this platform cannot load a 4-bit bitsandbytes model: {type(exc).__name__}: {exc}"
            ) from exc
        return release_file_views(model)

    def _probe_batch(self) -> dict:
        """The first tokens of two training items, for the gradient probe.

        Short on purpose: the probe asks whether a gradient reaches every LoRA layer, which any loss over a few
        positions answers (each layer feeds every later position). It runs without checkpointing and scores
        every position through the LM head, so whole rows cost what a training step does not: four legal rows
        (325 tokens wide) peaked at 3.7 GB on SmolLM2-135M, the sweep's highest stage; two rows of 48 tokens
        peak at 1.1 GB and take an eighth of the time, with the same verdict (120 of 120 B matrices)."""
        import torch

        tokenizer = self.env.base.tokenizer
        items = self.env.split("train").items[:PROBE_ROWS]
        ids = [
            tokenizer.apply_chat_template(
                self.build_messages(i.prompt_messages()) + [{"role": "assistant", "content": i.answer}],
                tokenize=True,
                return_dict=True,
            )["input_ids"][:PROBE_TOKENS]
            for i in items
        ]
        width = max(len(row) for row in ids)
        pad = tokenizer.pad_token_id
        input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in ids])
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in ids])
        labels = input_ids.masked_fill(mask == 0, -100)
        return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def release_file_views(model):
    """Copy the weights a CPU 4-bit load leaves as views of the safetensors file (embeddings, norms) into
    memory of their own, and return the model.

    Quantising reads every weight of the file, and while any tensor still views the file's mapping, every
    page it read stays resident: on SmolLM2-135M in fp32 that is 405 MB beside a 159 MB 4-bit model, more
    than the parked base it replaces (measured with the heap setting: 923 MB resident before the copy, 626 MB
    after). On a GPU the weights were copied to the device already."""
    import bitsandbytes as bnb

    if next(model.parameters()).device.type != "cpu":
        return model
    for module in model.modules():
        tensors = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
        for _, tensor in tensors:
            if not isinstance(tensor, bnb.nn.Params4bit):
                tensor.data = tensor.data.clone()
    return model


def bitsandbytes_available() -> bool:
    return importlib.util.find_spec("bitsandbytes") is not None


def check_gradients_flow(peft_model, batch: dict, *, when: str) -> dict:
    """One forward/backward in train mode; every LoRA B matrix must get a non-zero gradient.

    B starts at zero, so its gradient does not depend on B's value: it is non-zero
    exactly when the loss's gradient reaches that layer's output. Gradients are
    cleared afterwards so the probe leaves training as it found it.
    """
    was_training = peft_model.training
    peft_model.train()
    device = next(peft_model.parameters()).device
    peft_model(**{k: v.to(device) for k, v in batch.items()}).loss.backward()
    tensors = {name: p for name, p in peft_model.named_parameters() if p.requires_grad and "lora_B" in name}
    dead = [name for name, p in tensors.items() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    peft_model.zero_grad(set_to_none=True)
    peft_model.train(was_training)
    if not tensors:
        raise SilentZeroGradientError("no trainable LoRA B matrices found in the QLoRA model")
    if dead:
        raise SilentZeroGradientError(
            f"{len(dead)} of {len(tensors)} LoRA B matrices got no gradient {when} (first: {dead[0]}). "
            "bitsandbytes repacks 4-bit weights on CPUs with AVX512-BF16 when the model runs in eval mode, "
            "after which backward through them gives nothing (docs/design.md §7); train on a freshly loaded model."
        )
    return {"tensors": len(tensors), "with_gradient": len(tensors) - len(dead)}


def check_quantized_backward(model, *, when: str) -> int:
    """Every 4-bit layer, called alone in train mode, must give its input a non-zero gradient.

    Returns the number of layers checked. A small random input is enough: the
    question is whether backward through the layer exists, not its value.
    """
    import bitsandbytes as bnb
    import torch

    was_training = model.training
    model.train()  # an eval-mode call is exactly what would repack the weights
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    generator = torch.Generator().manual_seed(0)
    dead = []
    for name, layer in layers:
        device = layer.weight.device
        x = torch.randn(1, layer.in_features, generator=generator).to(device).requires_grad_(True)
        layer(x).float().sum().backward()
        if x.grad is None or not bool(x.grad.abs().sum() > 0):
            dead.append(name)
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    if dead:
        raise SilentZeroGradientError(
            f"{len(dead)} of {len(layers)} 4-bit layers pass no gradient {when} (first: {dead[0]}): their weights "
            "were repacked for CPU inference (docs/design.md §7), so the LoRA layers below them learned from a gradient "
            "that skipped them. Train on a freshly loaded model and keep eval-mode calls out of training."
        )
    return len(layers)


@contextlib.contextmanager
def _cpu_repacking(model, *, enabled: bool):
    """Switch bitsandbytes' eval-mode CPU repacking of 4-bit weights on or off, restoring it after."""
    import bitsandbytes as bnb

    # The flag is bitsandbytes 0.50's; on versions without it there is nothing to switch.
    layers = [
        m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit) and hasattr(m, "support_avx512bf16_for_cpu")
    ]
    saved = [m.support_avx512bf16_for_cpu for m in layers]
    for layer in layers:
        layer.support_avx512bf16_for_cpu = layer.support_avx512bf16_for_cpu and enabled
    try:
        yield
    finally:
        for layer, value in zip(layers, saved):
            layer.support_avx512bf16_for_cpu = value
