"""LoRA (Hu et al., 2021) and its options DoRA and rsLoRA, through peft."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.core.errors import BenchError
from harness.variants._peft import PeftVariant
from harness.variants.base import TrainedVariantConfig, register


class LoraVariantConfig(TrainedVariantConfig):
    kind: Literal["lora"] = "lora"
    r: int = Field(default=16, ge=1, description="rank of the update matrices")
    alpha: float = Field(default=32, gt=0, description="scaling numerator: updates are scaled by alpha/r")
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    top_layers: int | None = Field(
        default=None,
        ge=1,
        description="adapt only the top N decoder layers (default: all). The backward pass then stops at the "
        "lowest adapted layer, but the forward pass still runs every layer: on legal_classifier top 8 of 30 "
        "trained 1.2x the tokens/s of every layer (benchmarks/README.md, 'LoRA on the top layers')",
    )
    use_dora: bool = False
    use_rslora: bool = False


@register
class Lora(PeftVariant):
    kind = "lora"
    Config = LoraVariantConfig
    mergeable = True

    def peft_config(self):
        from peft import LoraConfig

        c = self.config
        return LoraConfig(
            r=c.r,
            lora_alpha=c.alpha,
            lora_dropout=c.dropout,
            target_modules=c.target_modules,
            layers_to_transform=self.adapted_layers(),
            use_dora=c.use_dora,
            use_rslora=c.use_rslora,
            task_type="CAUSAL_LM",
            bias="none",
        )

    def adapted_layers(self) -> list[int] | None:
        """The decoder layer indices of ``top_layers`` (peft's ``layers_to_transform``), or None for all."""
        top = self.config.top_layers
        if top is None:
            return None
        depth = self.env.base.model.config.get_text_config().num_hidden_layers
        if top > depth:
            raise BenchError(
                f"variant {self.name}: top_layers is {top}, but the base model has {depth} decoder layers",
                hint=f"set top_layers to at most {depth} in {self.env.suite_file}, or leave it out to adapt every layer",
            )
        return list(range(depth - top, depth))
