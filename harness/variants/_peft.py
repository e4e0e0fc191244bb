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
from typing import ClassVar, Iterator

from harness.variants.base import Prepared, TrainedVariantConfig, Variant, trained_cost


class PeftVariant(Variant):
    trains = True
    Config = TrainedVariantConfig
    # Whether the adapter can be folded into the base weights (LoRA, DoRA, IA3);
    # the merge check (harness/run/merge_check.py) runs only for these.
    mergeable: ClassVar[bool] = False

    def peft_config(self):
        raise NotImplementedError

    def initialise(self, peft_model) -> None:
        """Set the new adapter's starting weights, when peft's own initialisation is not the one wanted."""

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

        retrieval_cost = self.prepare_retrieval(workdir)
        model = self.model_to_adapt()
        seed = self.env.seed_for(self.name)
        set_seed(seed)  # adapter initialisation draws random numbers
        peft_model = get_peft_model(model, self.peft_config(), adapter_name=self.adapter_name)
        self.initialise(peft_model)
        trainable, total = peft_model.get_nb_trainable_parameters()
        try:
            training = self.train_adapter(peft_model, workdir, seed=seed)
            peft_model.save_pretrained(self.adapter_dir(workdir), selected_adapters=[self.adapter_name])
        finally:
            self.after_training(peft_model)
        self._workdir = workdir
        cost = {
            **trained_cost(self.adapter_dir(workdir), trainable=trainable, total=total),
            **self.model_cost(peft_model),
            **retrieval_cost,
        }
        return Prepared(cost=cost, training=training)

    # -- hooks: what differs between kinds that train an adapter --------------------------------

    def model_to_adapt(self):
        """The model the adapter is injected into: the shared base (QLoRA loads its own 4-bit copy)."""
        return self.env.base.model

    def train_adapter(self, peft_model, workdir: Path, *, seed: int) -> dict:
        """Train and return the training history (QLoRA checks gradients around this)."""
        return self.train(peft_model, workdir, seed=seed).to_json()

    def after_training(self, peft_model) -> None:
        detach_adapter(peft_model)  # back to the untouched base for the next variant

    def model_cost(self, peft_model) -> dict:
        """Cost fields only this kind knows (QLoRA: its own weights and compute dtype)."""
        return {}

    @contextlib.contextmanager
    def activated(self, workdir: Path | None = None) -> Iterator:
        from peft import PeftModel

        saved = self.saved_adapter(workdir or self._workdir)
        model = PeftModel.from_pretrained(self.env.base.model, saved, adapter_name=self.adapter_name)
        model.eval()
        try:
            yield model
        finally:
            detach_adapter(model)

    def saved_adapter(self, workdir: Path) -> Path:
        path = self.adapter_dir(workdir)
        # peft saves a non-default adapter in a subfolder named after it.
        return path / self.adapter_name if (path / self.adapter_name).exists() else path


def detach_adapter(peft_model) -> None:
    """Leave the shared base as it was before ``get_peft_model`` / ``PeftModel.from_pretrained``.

    Injected kinds (LoRA, IA3) put layers inside the base, which ``unload`` takes
    out again. Prompt learning (prompt and prefix tuning) injects nothing: it only
    wraps the base, so there is nothing to undo (and no ``unload`` to call).
    """
    if not peft_model.active_peft_config.is_prompt_learning:
        peft_model.unload()
