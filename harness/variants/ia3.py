"""IA3 (Liu et al., 2022): learned per-channel scales on keys, values and the feed-forward input.

IA3 trains a vector per targeted layer instead of a pair of matrices, so it has
far fewer parameters than LoRA (about 0.01% of SmolLM2-135M). The scales sit on
the outputs of ``k_proj`` and ``v_proj`` and on the input of ``down_proj`` (the
paper's l_k, l_v and l_ff), which is why ``down_proj`` is a feed-forward module.
Being a per-channel multiplication, an IA3 adapter folds into the base weights.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harness.variants._peft import PeftVariant
from harness.variants.base import TrainedVariantConfig, register


class Ia3VariantConfig(TrainedVariantConfig):
    kind: Literal["ia3"] = "ia3"
    target_modules: list[str] = Field(
        default_factory=lambda: ["k_proj", "v_proj", "down_proj"],
        min_length=1,
        description="layers whose activations get a learned scale",
    )
    feedforward_modules: list[str] = Field(
        default_factory=lambda: ["down_proj"],
        description="targets scaled on their input rather than their output (must be among target_modules)",
    )

    @model_validator(mode="after")
    def feedforward_among_targets(self):
        stray = [m for m in self.feedforward_modules if m not in self.target_modules]
        if stray:
            raise ValueError(f"feedforward_modules {stray} are not in target_modules {self.target_modules}")
        return self


@register
class Ia3(PeftVariant):
    kind = "ia3"
    Config = Ia3VariantConfig
    mergeable = True

    def peft_config(self):
        from peft import IA3Config

        c = self.config
        return IA3Config(
            target_modules=c.target_modules, feedforward_modules=c.feedforward_modules, task_type="CAUSAL_LM"
        )
