"""LoRA (Hu et al., 2021) and its options DoRA and rsLoRA, through peft."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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
            use_dora=c.use_dora,
            use_rslora=c.use_rslora,
            task_type="CAUSAL_LM",
            bias="none",
        )
