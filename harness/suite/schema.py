"""The suite schema (version 1).

Strict by construction: every model forbids unknown keys, so a typo is an error
with a "did you mean", never a silently ignored setting. Variant parameters live
with each variant kind (``harness/variants/<kind>.py``); this file holds what is
common to every suite. ``bench schema`` writes the JSON Schema for editors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_validator

from harness.core.config import Strict
from harness.suite.gate_rules import GateSpec

SCHEMA_VERSION = 1




class DataFiles(Strict):
    """Chat JSONL files, paths relative to the suite file."""

    train: str | None = None
    validation: str | None = None
    test: str = Field(description="held-out items every variant is scored on")


class TaskCommon(Strict):
    """What every task type has: its data, its instructions, and how to slice and guard it."""

    system_prompt: str = ""
    data: DataFiles
    test_limit: int | None = Field(default=None, ge=1, description="score only the first N test items")
    leakage: Literal["error", "warn"] = Field(
        default="error", description="what an item found in two splits (same content) does to a run")


class ClassificationTask(TaskCommon):
    type: Literal["classification"] = "classification"
    labels: list[str] = Field(min_length=2, description="the label set; answers outside it are invalid")
    answer_format: str = Field(
        default="{label}",
        description="the exact form of a well-formed answer; '{label}' stands for the label",
    )

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


class Normalisation(Strict):
    case_insensitive: bool = True
    collapse_whitespace: bool = True


class ExtractionTask(TaskCommon):
    type: Literal["extraction"]
    json_schema: dict[str, Any] = Field(description="JSON Schema every answer must fit (type: object, properties: ...)")
    normalise: Normalisation = Normalisation()

    @field_validator("json_schema")
    @classmethod
    def schema_is_an_object_schema(cls, schema: dict) -> dict:
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict) or not schema["properties"]:
            raise ValueError("json_schema must describe an object: type: object with properties")
        try:
            import jsonschema

            jsonschema.validators.validator_for(schema).check_schema(schema)
        except ImportError:
            pass  # checked again, with an install hint, when the task is built
        except Exception as exc:  # jsonschema.SchemaError
            raise ValueError(f"not a valid JSON Schema: {getattr(exc, 'message', exc)}") from None
        return schema


class GenerationConstraints(Strict):
    max_words: int | None = Field(default=None, ge=1)
    min_words: int | None = Field(default=None, ge=0)
    regex: str | None = Field(default=None, description="the output must contain a match")
    required_phrases: list[str] = Field(default_factory=list)
    forbidden_phrases: list[str] = Field(default_factory=list, description="matched as whole words, ignoring case")
    keep_numbers: bool = Field(default=False, description="every number in the input must appear in the output")

    @field_validator("regex")
    @classmethod
    def regex_compiles(cls, pattern: str | None) -> str | None:
        import re

        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern


class GenerationTask(TaskCommon):
    type: Literal["generation"]
    constraints: GenerationConstraints = GenerationConstraints()
    min_rouge_l: float = Field(default=0.3, ge=0, le=1, description="per-item pass mark: well-formed and ROUGE-L at least this")


TaskSpec = Annotated[Union[ClassificationTask, ExtractionTask, GenerationTask], Field(discriminator="type")]


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
    select_best: bool = Field(
        default=False, description="after training, keep the weights of the evaluation with the lowest validation "
                                   "loss (needs eval_every and a validation split)")

    @model_validator(mode="after")
    def select_best_needs_evaluation(self):
        if self.select_best and self.eval_every is None:
            raise ValueError("select_best needs eval_every: the best weights are chosen among evaluations")
        return self


class VariabilitySpec(Strict):
    samples: int = Field(default=5, ge=2, le=64, description="sampled generations per test item")
    temperature: float = Field(default=0.7, gt=0, le=5)


class InferenceSpec(Strict):
    mode: Literal["generate", "rank"] = Field(
        default="generate", description="generate: greedy generation, then the answer is parsed. rank (classification "
                                         "only): the answer is the most likely of answer_format filled with each label, "
                                         "scored by log-likelihood; outputs are well-formed by construction, so format "
                                         "compliance is not measured")
    batch_size: int = Field(default=16, ge=1)
    max_new_tokens: int = Field(default=16, ge=1)
    bf16: bool = Field(
        default=False, description="bf16 autocast for predictions, probes and checks (several times faster on CPUs "
                                   "with bf16 matmul; greedy answers may differ from fp32 on near-ties)")
    merge_check: bool = Field(
        default=False, description="for mergeable adapters (LoRA, DoRA, IA3): predict again with the adapter merged "
                                   "into a copy of the base and record whether the predictions are identical")
    variability: VariabilitySpec | None = Field(
        default=None, description="also sample N generations per item and record the share of distinct outputs")

    @model_validator(mode="after")
    def merge_check_needs_generation(self):
        if self.mode == "rank" and self.merge_check:
            raise ValueError("merge_check compares generated answers; with mode: rank there are none to compare "
                             "(set merge_check: false, or mode: generate)")
        return self


class CostSpec(Strict):
    price_per_hour: float | None = Field(
        default=None, ge=0, description="price of this machine per hour; each variant's cost then has usd")


class ProbeSpec(Strict):
    tasks: list[str] = Field(default_factory=list, description="lm-eval task names; bench ships offline bench_* tasks")
    limit: int | None = Field(default=100, ge=1, description="first N items of each task")


class Suite(Strict):
    """A validated suite. ``variants`` is already grid-expanded and each entry typed by its kind."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = 0
    task: TaskSpec
    base_model: BaseModelSpec
    training: TrainingSpec = TrainingSpec()
    inference: InferenceSpec = InferenceSpec()
    variants: list[Any] = Field(min_length=1)
    probes: ProbeSpec = ProbeSpec()
    cost: CostSpec = CostSpec()
    allow_paths_outside_suite: bool = Field(
        default=False, description="let data paths point outside the suite's folder (off: a suite cannot read arbitrary files)")
    gate: GateSpec = Field(default_factory=GateSpec, description="gate rules (see docs/gate.md)")
