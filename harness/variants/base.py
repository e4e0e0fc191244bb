"""The one interface every variant kind implements, and the registry of kinds.

A variant answers two questions:
- ``prepare(workdir)``: do whatever must happen before predicting (train an
  adapter, build an index) and leave its artifacts in ``workdir``;
- ``activated()``: a context in which ``self.model`` is the model to predict
  with (the shared base, with this variant's adapter attached if it has one).
It also decides the prompt (``build_messages``), so few-shot and RAG are just
variants that put more into the prompt.

Adding a kind is one new module in this package that subclasses ``Variant``
and decorates it with ``@register``; nothing else changes.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

from pydantic import Field

from harness.retrieval.config import RetrievalSpec
from harness.core.config import Strict
from harness.suite.schema import TrainingSpec

if TYPE_CHECKING:
    from harness.run.recipe import RunContext


class VariantConfig(Strict):
    """Fields every variant has; each kind subclasses this with its own parameters."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str


def _optional_copy_of(spec: type[Strict]) -> type[Strict]:
    """TrainingSpec with every field optional: what a variant may override."""
    from pydantic import create_model

    fields = {name: (info.annotation | None, None) for name, info in spec.model_fields.items()}
    return create_model("TrainingOverrides", __base__=Strict, **fields)


TrainingOverrides = _optional_copy_of(TrainingSpec)


class TrainedVariantConfig(VariantConfig):
    training: TrainingOverrides = TrainingOverrides()  # type: ignore[valid-type]
    retrieval: RetrievalSpec | None = Field(
        default=None, description="retrieve context into every prompt, in training and at test time (tuned + RAG)")

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
    trains: ClassVar[bool] = False

    def __init__(self, config: VariantConfig, ctx: "RunContext"):
        self.config = config
        self.ctx = ctx

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

        return RetrievalAugmenter(spec, self.ctx)

    def build_messages(self, prompt_messages: list[dict]) -> list[dict]:
        """The chat sent to the model for one item: the suite's system prompt, then the item."""
        if self.retrieval is not None:
            return self.retrieval.render(prompt_messages)
        return self.ctx.prompt_template.render(prompt_messages)

    def prepare(self, workdir: Path) -> Prepared:
        return Prepared()

    @contextlib.contextmanager
    def activated(self) -> Iterator[Any]:
        """Yield the model to predict with; the default is the untouched base model."""
        yield self.ctx.base.model


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
