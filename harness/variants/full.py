"""Full fine-tuning: every weight trained, on a private copy of the base.

Training the shared base in place would change it for every variant after
this one, so the base is deep-copied first and the copy trained, saved and
freed after predicting. Weights are kept in fp32 ("master weights") whatever
the base's dtype: pure bf16 weights stalled the loss on this CPU (docs/design.md §5),
because most small updates round away in bf16. bf16 compute is still available
as autocast through ``training.bf16``. Use a learning rate about ten times
smaller than LoRA's (2e-5 to 5e-5 for a 135M model).
"""

from __future__ import annotations

import contextlib
import copy
import gc
from pathlib import Path
from typing import Iterator, Literal

from harness.variants.base import Prepared, TrainedVariantConfig, Variant, register, trained_cost


class FullVariantConfig(TrainedVariantConfig):
    kind: Literal["full"] = "full"


@register
class FullFineTune(Variant):
    kind = "full"
    Config = FullVariantConfig
    trains = True

    def model_dir(self, workdir: Path) -> Path:
        return workdir / "model"

    def prepare(self, workdir: Path) -> Prepared:
        from transformers import set_seed

        retrieval_cost = self.prepare_retrieval(workdir)
        seed = self.env.seed_for(self.name)
        set_seed(seed)
        model = copy.deepcopy(self.env.base.model).float()
        # peft freezes the shared base's parameters when an adapter is attached;
        # the copy inherits those flags, so unfreeze everything explicitly.
        model.requires_grad_(True)
        n_params = sum(p.numel() for p in model.parameters())  # tied embeddings counted once
        record = self.train(model, workdir, seed=seed)
        model.eval()
        model.save_pretrained(self.model_dir(workdir), safe_serialization=True)
        self._model, self._workdir = model, workdir
        cost = {
            **trained_cost(self.model_dir(workdir), trainable=n_params, total=n_params),
            "weights_mb": model.get_memory_footprint() / 2**20,
            **retrieval_cost,
        }
        return Prepared(cost=cost, training=record.to_json())

    @contextlib.contextmanager
    def activated(self, workdir: Path | None = None) -> Iterator:
        model = getattr(self, "_model", None)
        if model is None:  # predicting again (a second check): reload the saved weights
            from transformers import AutoModelForCausalLM

            model = AutoModelForCausalLM.from_pretrained(self.model_dir(workdir or self._workdir), use_safetensors=True)
            model.to(self.env.base.device).eval()
        self._model = None
        try:
            yield model
        finally:
            del model  # a whole second model: free it for the next variant
            gc.collect()
