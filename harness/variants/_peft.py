"""What every peft-trained kind shares: train an adapter on the base, save it, attach it to predict.

A kind only says which peft config it wants (``peft_config``); training,
saving, attaching and detaching are the same for LoRA, DoRA, IA3 and the rest.
The base model is never reloaded: the adapter is injected for training and for
prediction, and removed (``unload``) afterwards, leaving the base as it was.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Iterator

from harness.variants.base import Prepared, TrainedVariantConfig, Variant


class PeftVariant(Variant):
    trains = True
    Config = TrainedVariantConfig

    def peft_config(self):
        raise NotImplementedError

    @property
    def adapter_name(self) -> str:
        # peft adapter names become attribute names, and one equal to a prefix
        # such as "lora" confuses peft's key matching; so prefix and sanitise.
        return "bench_" + re.sub(r"\W", "_", self.name)

    def adapter_dir(self, workdir: Path) -> Path:
        return workdir / "adapter"

    def prepare(self, workdir: Path) -> Prepared:
        from peft import get_peft_model
        from transformers import set_seed

        seed = self.ctx.seed_for(self.name)
        set_seed(seed)  # adapter initialisation draws random numbers
        peft_model = get_peft_model(self.ctx.base.model, self.peft_config(), adapter_name=self.adapter_name)
        trainable, total = peft_model.get_nb_trainable_parameters()
        try:
            record = self.ctx.train(self, peft_model, workdir, seed=seed)
            peft_model.save_pretrained(self.adapter_dir(workdir), selected_adapters=[self.adapter_name])
        finally:
            peft_model.unload()  # back to the untouched base for the next variant
        self._workdir = workdir
        adapter_bytes = sum(p.stat().st_size for p in self.adapter_dir(workdir).rglob("*") if p.is_file())
        cost = {"trainable_params": trainable, "total_params": total, "trainable_share": trainable / total,
                "adapter_bytes": adapter_bytes}
        return Prepared(cost=cost, training=record.to_json())

    @contextlib.contextmanager
    def activated(self, workdir: Path | None = None) -> Iterator:
        from peft import PeftModel

        path = self.adapter_dir(workdir or self._workdir)
        # peft saves a non-default adapter in a subfolder named after it.
        saved = path / self.adapter_name if (path / self.adapter_name).exists() else path
        model = PeftModel.from_pretrained(self.ctx.base.model, saved, adapter_name=self.adapter_name)
        model.eval()
        try:
            yield model
        finally:
            model.unload()
