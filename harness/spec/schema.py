"""The suite schema (version 1).

Strict by construction: every model forbids unknown keys, so a typo is an error
with a "did you mean", never a silently ignored setting. Variant parameters live
with each variant kind (``harness/variants/<kind>.py``); this file holds what is
common to every suite. ``bench schema`` writes the JSON Schema for editors.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


from harness.gate.spec import GateSpec  # noqa: E402  (below Strict: GateSpec subclasses it)


class DataFiles(Strict):
    """Chat JSONL files, paths relative to the suite file."""

    train: str | None = None
    validation: str | None = None
    test: str = Field(description="held-out items every variant is scored on")


class ClassificationTask(Strict):
    type: Literal["classification"] = "classification"
    labels: list[str] = Field(min_length=2, description="the label set; answers outside it are invalid")
    answer_format: str = Field(
        default="{label}",
        description="the exact form of a well-formed answer; '{label}' stands for the label",
    )
    system_prompt: str = ""
    data: DataFiles
    test_limit: int | None = Field(default=None, ge=1, description="score only the first N test items")
    leakage: Literal["error", "warn"] = Field(
        default="error", description="what an item found in two splits (same content) does to a run")

    @field_validator("labels")
    @classmethod
    def labels_unique(cls, labels: list[str]) -> list[str]:
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        if dupes:
            raise ValueError(f"labels repeat: {dupes}")
        return labels

    @field_validator("answer_format")
    @classmethod
    def format_has_label(cls, fmt: str) -> str:
        if fmt.count("{label}") != 1:
            raise ValueError("answer_format must contain '{label}' exactly once")
        return fmt


class BaseModelSpec(Strict):
    name: str = Field(description="an alias (smollm2-135m-instruct), a hub id (owner/name) or a local folder")
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    trust_remote_code: bool = Field(default=False, description="run code shipped with a hub model; off unless you trust it")


class TrainingSpec(Strict):
    """Defaults for every trained variant; a variant's own ``training:`` overrides them key by key."""

    epochs: float = Field(default=1.0, gt=0)
    max_steps: int | None = Field(default=None, ge=1, description="stop after this many optimiser steps")
    learning_rate: float = Field(default=2e-4, gt=0)
    batch_size: int = Field(default=8, ge=1)
    gradient_accumulation: int = Field(default=1, ge=1)
    max_length: int = Field(default=256, ge=16)
    warmup_ratio: float = Field(default=0.0, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0)
    eval_every: int | None = Field(default=None, ge=1, description="validation loss every N steps (needs a validation split)")
    bf16: bool = Field(default=False, description="bf16 autocast during training")
    checkpoint_every: int | None = Field(
        default=None, ge=1, description="save a checkpoint every N steps; a killed run resumes from the last one")


class InferenceSpec(Strict):
    batch_size: int = Field(default=16, ge=1)
    max_new_tokens: int = Field(default=16, ge=1)


class ProbeSpec(Strict):
    tasks: list[str] = Field(default_factory=list, description="lm-eval task names; bench ships offline bench_* tasks")
    limit: int | None = Field(default=100, ge=1, description="first N items of each task")


class Suite(Strict):
    """A validated suite. ``variants`` is already grid-expanded and each entry typed by its kind."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = 0
    task: ClassificationTask
    base_model: BaseModelSpec
    training: TrainingSpec = TrainingSpec()
    inference: InferenceSpec = InferenceSpec()
    variants: list[Any] = Field(min_length=1)
    probes: ProbeSpec = ProbeSpec()
    allow_paths_outside_suite: bool = Field(
        default=False, description="let data paths point outside the suite's folder (off: a suite cannot read arbitrary files)")
    gate: GateSpec = Field(default_factory=GateSpec, description="gate rules (see docs/gate.md)")
