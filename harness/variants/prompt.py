"""Prompt-only baselines: the base model as it is, with and without demonstrations."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from harness.variants.base import Variant, VariantConfig, register


class ZeroShotConfig(VariantConfig):
    kind: Literal["zero_shot"] = "zero_shot"


@register
class ZeroShot(Variant):
    """The base model with the suite's prompt (or the variant's own) and nothing else: the floor to beat."""

    kind = "zero_shot"
    Config = ZeroShotConfig


class FewShotConfig(VariantConfig):
    kind: Literal["few_shot"] = "few_shot"
    shots: int = Field(default=4, ge=1, le=64, description="demonstrations from the training split")


@register
class FewShot(Variant):
    """The base model shown ``shots`` solved training items before each test item.

    Demonstrations are the same for every item and chosen by the variant's seed,
    cycling through labels so that no label is left out when shots >= labels.
    """

    kind = "few_shot"
    Config = FewShotConfig

    def __init__(self, config, env):
        super().__init__(config, env)
        self._demonstrations = self._choose_demonstrations()

    def _choose_demonstrations(self) -> list[dict]:
        train = self.env.split("train")
        rng = random.Random(self.env.seed_for(self.name))
        by_label: dict[str | None, list] = {}
        for item in train.items:
            by_label.setdefault(item.label, []).append(item)
        pools = [rng.sample(items, len(items)) for _, items in sorted(by_label.items(), key=lambda kv: str(kv[0]))]
        rng.shuffle(pools)
        chosen = []
        while len(chosen) < self.config.shots and any(pools):
            for pool in pools:
                if pool and len(chosen) < self.config.shots:
                    chosen.append(pool.pop())
        demos: list[dict] = []
        for item in chosen:
            demos += [m for m in item.prompt_messages() if m["role"] != "system"]
            demos.append({"role": "assistant", "content": item.answer})
        return demos

    def build_messages(self, prompt_messages: list[dict]) -> list[dict]:
        return self.prompt_template().render(prompt_messages, demonstrations=self._demonstrations)
