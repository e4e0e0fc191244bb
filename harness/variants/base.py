"""The one interface every variant kind implements, and the registry of kinds.

A variant answers two questions:
- ``prepare(workdir)``: do whatever must happen before predicting (train an
  adapter, build an index) and leave its artifacts in ``workdir``;
- ``activated()``: a context in which ``self.model`` is the model to predict
  with (the shared base, with this variant's adapter attached if it has one).
It also decides the prompt (``build_messages``), so few-shot and RAG are just
variants that put more into the prompt. It reads the run through a frozen
``VariantEnvironment`` and trains by calling ``harness.training`` itself.

Adding a kind is one new module in this package that subclasses ``Variant``
and decorates it with ``@register``; nothing else changes.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, Literal

from pydantic import Field, model_validator

from harness.core.config import Strict
from harness.core.limits import MAX_NEW_TOKENS, MAX_SEEDS
from harness.core.names import SafeName
from harness.data.prompts import PromptTemplate
from harness.retrieval.config import RetrievalSpec
from harness.suite.schema import InferenceSpec, TrainingSpec
from harness.variants.environment import VariantEnvironment

if TYPE_CHECKING:
    from harness.training.sft import TrainingRecord


class VariantSkipped(Exception):
    """Raised by a variant that cannot run on this platform; the run goes on."""


class InferenceOverrides(Strict):
    """What a variant may change of the suite's ``inference:``, key by key; bf16 and variability stay suite-wide."""

    mode: Literal["generate", "rank"] | None = Field(default=None, description="generate or rank (classification)")
    batch_size: int | None = Field(default=None, ge=1)
    max_new_tokens: int | None = Field(default=None, ge=1, le=MAX_NEW_TOKENS)
    merge_check: bool | None = Field(default=None, description="off for a ranking variant of a suite that checks")


# Keys that change how an LLM variant is asked; unset, they leave the variant's content key as it was before them.
PROMPT_KEYS = ("inference", "system_prompt", "prompt")


class VariantConfig(Strict):
    """Fields every variant has; each kind subclasses this with its own parameters."""

    # False for kinds that read the items' text without a prompt (classical classifiers): the keys below do not apply.
    prompted: ClassVar[bool] = True

    name: SafeName  # becomes the folder <run>/variants/<name>/
    kind: str
    inference: InferenceOverrides | None = Field(
        default=None, description="this variant's own inference settings, on top of the suite's inference: key by key"
    )
    system_prompt: str | None = Field(
        default=None, description="this variant's system prompt instead of task.system_prompt"
    )
    prompt: str | None = Field(
        default=None, description="the name of an entry of the suite's prompts: block, used as the system prompt"
    )

    @model_validator(mode="after")
    def one_prompt_source(self):
        if self.system_prompt is not None and self.prompt is not None:
            raise ValueError("set system_prompt (the text) or prompt (a name from prompts:), not both")
        if not self.prompted and any(getattr(self, key) is not None for key in PROMPT_KEYS):
            raise ValueError(
                f"kind '{self.kind}' reads each item's text, not a prompt: inference, system_prompt and prompt "
                "do not apply to it"
            )
        return self

    def resolved_inference(self, defaults: InferenceSpec) -> InferenceSpec:
        """The suite's inference with this variant's overrides on top, checked as a whole (rank + merge_check)."""
        if self.inference is None:
            return defaults
        overrides = self.inference.model_dump(exclude_none=True)
        return InferenceSpec.model_validate({**defaults.model_dump(), **overrides})

    def key_fields(self) -> dict[str, Any]:
        """The config as the content key hashes it: prompt keys left out while unset, so adding them to bench
        kept every earlier variant's key (and its stored result)."""
        # seeds (trained kinds) says how many members train, not how one trains: left out of every key;
        # a member's own seed is in its name (harness/run/seeds.py).
        unset = {k for k in PROMPT_KEYS if getattr(self, k) is None}
        return self.model_dump(mode="json", exclude=unset | {"seeds"})


def _optional_copy_of(spec: type[Strict]) -> type[Strict]:
    """TrainingSpec with every field optional: what a variant may override."""
    from pydantic import create_model
    from pydantic.fields import FieldInfo

    # Each field keeps its bounds (epochs > 0, max_steps <= 10^6): an override is checked as the default is.
    fields = {
        name: (info.annotation | None, FieldInfo.merge_field_infos(info, default=None))
        for name, info in spec.model_fields.items()
    }
    return create_model("TrainingOverrides", __base__=Strict, **fields)


TrainingOverrides = _optional_copy_of(TrainingSpec)


class TrainedVariantConfig(VariantConfig):
    training: TrainingOverrides = TrainingOverrides()  # type: ignore[valid-type]
    seeds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_SEEDS,
        strict=True,
        description="train this many times, one seed each, instead of the suite's seeds:",
    )
    retrieval: RetrievalSpec | None = Field(
        default=None, description="retrieve context into every prompt, in training and at test time (tuned + RAG)"
    )

    def resolved_training(self, defaults: TrainingSpec) -> TrainingSpec:
        overrides = {k: v for k, v in self.training.model_dump().items() if v is not None}
        return defaults.model_copy(update=overrides)


@dataclass
class Prepared:
    """What ``prepare`` reports: cost figures and any training history."""

    cost: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] | None = None


class Variant:
    kind: ClassVar[str]
    Config: ClassVar[type[VariantConfig]] = VariantConfig
    trains: ClassVar[bool] = False  # changes the language model's weights: probed for forgetting
    # Answers without the language model (a classical classifier): ``answer(items)`` replaces predicting.
    answers_itself: ClassVar[bool] = False
    # Predicts (and trains) with the run's shared base model. False for a kind that loads a copy of its own
    # (QLoRA's 4-bit one): the shared base is then parked while it runs (model/parking.py).
    uses_shared_base: ClassVar[bool] = True

    def __init__(self, config: VariantConfig, env: VariantEnvironment):
        self.config = config
        self.env = env

    @property
    def name(self) -> str:
        return self.config.name

    def retrieval_spec(self) -> RetrievalSpec | None:
        """What this variant retrieves into its prompts, if anything (``retrieval:`` on a trained variant)."""
        return getattr(self.config, "retrieval", None)

    @functools.cached_property
    def retrieval(self):
        """The variant's ``RetrievalAugmenter``, or None when it retrieves nothing."""
        spec = self.retrieval_spec()
        if spec is None:
            return None
        from harness.retrieval.augment import RetrievalAugmenter

        return RetrievalAugmenter(spec, self.env, template=self.prompt_template())

    # -- how this variant is asked: the suite's settings unless it sets its own ----------------

    def system_prompt_source(self) -> tuple[str, str | None]:
        """``(source, name)``: "suite" (task.system_prompt), "variant" (its own system_prompt) or "prompts"
        (the entry ``name`` of the suite's prompts: block)."""
        if self.config.prompt is not None:
            return "prompts", self.config.prompt
        if self.config.system_prompt is not None:
            return "variant", None
        return "suite", None

    def prompt_template(self) -> PromptTemplate:
        """The template this variant renders every prompt with, in training and at test time."""
        source, name = self.system_prompt_source()
        if source == "prompts":
            if name not in self.env.prompts:  # the suite loader refuses this; a hand-built environment may not
                raise KeyError(f"variant '{self.name}' names prompt '{name}', which the suite's prompts: lacks")
            return PromptTemplate(self.env.prompts[name])
        if source == "variant":
            return PromptTemplate(self.config.system_prompt)
        return self.env.prompt_template

    def inference_spec(self) -> InferenceSpec:
        """How this variant answers test (and validation) items: the suite's inference, its overrides on top."""
        return self.config.resolved_inference(self.env.inference)

    def build_messages(self, prompt_messages: list[dict]) -> list[dict]:
        """The chat sent to the model for one item: the variant's system prompt, then the item."""
        if self.retrieval is not None:
            return self.retrieval.render(prompt_messages)
        return self.prompt_template().render(prompt_messages)

    def prepare(self, workdir: Path) -> Prepared:
        return Prepared()

    @contextlib.contextmanager
    def activated(self) -> Iterator[Any]:
        """Yield the model to predict with; the default is the untouched base model."""
        yield self.env.base.model

    def release(self) -> None:
        """Free what this variant loaded for itself, once its record is complete: the run goes on to the
        next variant, and the variant objects live as long as the run. The default holds nothing."""

    # -- for kinds that train ---------------------------------------------------------------

    def training_spec(self) -> TrainingSpec:
        """The suite's training defaults with this variant's overrides on top."""
        return self.config.resolved_training(self.env.training_defaults)

    def prepare_retrieval(self, workdir: Path) -> dict:
        """Tuned + RAG: search for the training items too, before training on them; the figures for the cost."""
        if self.retrieval is None:
            return {}
        return self.retrieval.prepare(workdir, training_max_length=self.training_spec().max_length)

    def train(self, model, workdir: Path, *, seed: int) -> "TrainingRecord":
        """Fine-tune ``model`` on the training split, prompted exactly as this variant predicts."""
        from harness.training.sft import prompt_completion_rows, train_sft

        spec = self.training_spec()
        train_items = self.env.split("train").items
        rows = prompt_completion_rows(
            [self.build_messages(i.prompt_messages()) for i in train_items], [i.answer for i in train_items]
        )
        eval_rows = None
        if "validation" in self.env.splits and spec.eval_every:
            val = self.env.splits["validation"].items
            eval_rows = prompt_completion_rows(
                [self.build_messages(i.prompt_messages()) for i in val], [i.answer for i in val]
            )
        scorer = self.validation_accuracy() if eval_rows and spec.select_by == "validation_accuracy" else None
        if spec.launcher == "accelerate":  # the training only, in num_processes processes (docs/scale.md)
            from harness.training.launch import train_launched

            config_file = spec.accelerate_config
            with self.env.progress.task(f"train {self.name} ({spec.num_processes} processes)", total=None):
                return train_launched(
                    model,
                    rows,
                    spec=spec,
                    seed=seed,
                    output_dir=workdir / "trainer",
                    base_source=self.env.base.source,
                    adapter_name=getattr(self, "adapter_name", "default"),
                    eval_rows=eval_rows,
                    trust_remote_code=self.env.base_model_spec.trust_remote_code,
                    config_file=self.env.resolve_path(config_file, field="training.accelerate_config")
                    if config_file
                    else None,
                )
        with self.env.progress.task(f"train {self.name}", total=None) as advance:
            return train_sft(
                model,
                self.env.base.tokenizer,
                rows,
                spec=spec,
                seed=seed,
                output_dir=workdir / "trainer",
                eval_rows=eval_rows,
                on_step=lambda step, total: advance(completed=step, total=total),
                validation_accuracy=scorer,
            )

    def validation_accuracy(self):
        """``model -> share of validation items answered right``, answered exactly as test items will be."""
        from harness.model.generate import inference_precision
        from harness.model.predictor import Predictor

        items = self.env.split("validation").items
        conversations = [self.build_messages(i.prompt_messages()) for i in items]
        inference, task, tokenizer = self.inference_spec(), self.env.task, self.env.base.tokenizer

        def score(model) -> float:
            # Answered as the test items will be: the same settings, stopping at the first line where they do.
            predictor = Predictor.for_inference(
                model, tokenizer, inference, single_line_answers=task.single_line_answers
            )
            with inference_precision(inference.bf16):
                answers = predictor.answer(conversations, task, mode=inference.mode)
            return sum(bool(task.score(a.text, item)["correct"]) for a, item in zip(answers, items)) / len(items)

        return score


def trained_cost(workdir_artifact: Path, *, trainable: int, total: int) -> dict[str, Any]:
    """The cost fields every trained kind reports: what it trained and what it saved."""
    saved_bytes = sum(p.stat().st_size for p in workdir_artifact.rglob("*") if p.is_file())
    return {
        "trainable_params": trainable,
        "total_params": total,
        "trainable_share": trainable / total,
        "adapter_bytes": saved_bytes,
    }


REGISTRY: dict[str, type[Variant]] = {}


def register(cls: type[Variant]) -> type[Variant]:
    if cls.kind in REGISTRY:
        raise ValueError(f"variant kind '{cls.kind}' registered twice")
    REGISTRY[cls.kind] = cls
    return cls


def variant_kinds() -> dict[str, type[Variant]]:
    """All registered kinds; importing the package imports every kind module."""
    import harness.variants  # noqa: F401  (registers kinds on import)

    return REGISTRY


def variant_configs() -> dict[str, type[VariantConfig]]:
    """Each kind's config class, by kind: what the suite loader validates variants against."""
    return {kind: cls.Config for kind, cls in variant_kinds().items()}
