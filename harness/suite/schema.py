"""The suite schema (version 1).

Strict by construction: every model forbids unknown keys, so a typo is an error
with a "did you mean", never a silently ignored setting. Variant parameters live
with each variant kind (``harness/variants/<kind>.py``); this file holds what is
common to every suite. ``bench schema`` writes the JSON Schema for editors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SerializeAsAny, WrapValidator, field_validator, model_validator

from harness.core.config import Strict
from harness.core.limits import MAX_EPOCHS, MAX_NEW_TOKENS, MAX_SEEDS, MAX_STEPS
from harness.core.names import SafeName
from harness.suite.gate_rules import GateSpec
from harness.suite.judge_spec import JudgeSpec
from harness.suite.tracking_spec import TrackingSpec
from harness.tasks.base import DataFiles, TaskCommon, task_spec_json_schema, validate_task_spec
from harness.tasks.classification import ClassificationTask
from harness.tasks.extraction import ExtractionTask, Normalisation
from harness.tasks.generation import GenerationConstraints, GenerationTask

# The built-in task types' specs live with their task types; named here for code that imports them from the schema.
__all__ = [
    "Suite",
    "TaskSpec",
    "TaskCommon",
    "DataFiles",
    "ClassificationTask",
    "ExtractionTask",
    "Normalisation",
    "GenerationTask",
    "GenerationConstraints",
    "SCHEMA_VERSION",
]

SCHEMA_VERSION = 1


class _RegisteredTaskSpecs:
    """The ``task:`` section: validated by the spec of the task type its ``type`` names (harness/tasks).

    Task types register at import, a test's own type included, so the union is read at validation time
    rather than fixed here; the JSON Schema for editors is the same union, discriminated by ``type``.
    """

    def __get_pydantic_json_schema__(self, core_schema, handler):
        return task_spec_json_schema(handler)


TaskSpec = Annotated[
    SerializeAsAny[TaskCommon], WrapValidator(lambda value, _handler: validate_task_spec(value)), _RegisteredTaskSpecs()
]


class BaseModelSpec(Strict):
    name: str = Field(description="an alias (smollm2-135m-instruct), a hub id (owner/name) or a local folder")
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    trust_remote_code: bool = Field(
        default=False,
        description="asks to run code shipped with the model; refused unless bench runs with --trust-remote-code "
        "(or BENCH_TRUST_REMOTE_CODE=1): a suite cannot allow it itself (docs/security.md)",
    )
    precision_fallback: bool = Field(
        default=True,
        description="on a machine that would emulate bf16 (no GPU, an x86 CPU without AVX512-BF16 or AMX, "
        "where it runs hundreds of times slower), run bf16/fp16 settings in fp32 and record the change "
        "in the manifest; false keeps the suite's precision regardless",
    )


class TrainingSpec(Strict):
    """Defaults for every trained variant; a variant's own ``training:`` overrides them key by key."""

    epochs: float = Field(default=1.0, gt=0, le=MAX_EPOCHS, allow_inf_nan=False)
    max_steps: int | None = Field(default=None, ge=1, le=MAX_STEPS, description="stop after this many optimiser steps")
    learning_rate: float = Field(default=2e-4, gt=0)
    batch_size: int = Field(default=8, ge=1)
    gradient_accumulation: int = Field(default=1, ge=1)
    max_length: int = Field(default=256, ge=16)
    warmup_ratio: float = Field(default=0.0, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0)
    eval_every: int | None = Field(
        default=None, ge=1, description="validation loss every N steps (needs a validation split)"
    )
    bf16: bool = Field(default=False, description="bf16 autocast during training")
    gradient_checkpointing: bool = Field(
        default=True,
        description="keep only each layer's input in the forward pass and recompute the rest in the backward: "
        "a fraction of the activation memory for one more forward pass of compute (prompt and prefix tuning "
        "too, their virtual tokens run outside it; off for other prompt-learning methods, whose virtual tokens a "
        "checkpointed layer would drop)",
    )
    checkpoint_every: int | None = Field(
        default=None, ge=1, description="save a checkpoint every N steps; a killed run resumes from the last one"
    )
    select_best: bool = Field(
        default=False,
        description="after training, keep the weights of the best evaluation by select_by "
        "(needs eval_every and a validation split)",
    )
    select_by: Literal["validation_loss", "validation_accuracy"] = Field(
        default="validation_loss",
        description=(
            "what 'best' means for select_best and early stopping: the lowest validation loss, or the highest "
            "validation accuracy (the task's own per-item 'correct', predicted as at test time: the suite's "
            "inference mode on the validation items)"
        ),
    )
    early_stopping_patience: int | None = Field(
        default=None, ge=1, description="stop training after this many evaluations without a new best by select_by"
    )
    launcher: Literal["in_process", "accelerate"] = Field(
        default="in_process",
        description="in_process: train in bench's own process. accelerate: train under `accelerate launch` "
        "with num_processes processes (DDP; FSDP or DeepSpeed through accelerate_config), see docs/scale.md",
    )
    num_processes: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="processes (GPUs) for launcher: accelerate; batch_size is the global batch",
    )
    accelerate_config: str | None = Field(
        default=None,
        description="an accelerate config file (FSDP, DeepSpeed) passed to `accelerate launch --config_file`",
    )

    @model_validator(mode="after")
    def launcher_settings_fit(self):
        if self.launcher == "in_process" and (self.num_processes != 1 or self.accelerate_config):
            raise ValueError("num_processes and accelerate_config need launcher: accelerate")
        if self.launcher == "accelerate" and self.select_by == "validation_accuracy" and self.eval_every:
            raise ValueError(
                "launcher: accelerate selects by validation_loss: validation accuracy is predicted in bench's "
                "own process, not in the launched ones"
            )
        if self.batch_size % self.num_processes:
            raise ValueError(
                f"batch_size {self.batch_size} is the global batch: it must split evenly over "
                f"num_processes {self.num_processes}"
            )
        return self

    @model_validator(mode="after")
    def select_best_needs_evaluation(self):
        if self.select_best and self.eval_every is None:
            raise ValueError("select_best needs eval_every: the best weights are chosen among evaluations")
        if self.early_stopping_patience is not None and self.eval_every is None:
            raise ValueError("early_stopping_patience needs eval_every: training stops between evaluations")
        return self


class VariabilitySpec(Strict):
    samples: int = Field(default=5, ge=2, le=64, description="sampled generations per test item")
    temperature: float = Field(default=0.7, gt=0, le=5)


class InferenceSpec(Strict):
    mode: Literal["generate", "rank"] = Field(
        default="generate",
        description="generate: greedy generation, then the answer is parsed. rank (classification "
        "only): the answer is the most likely of answer_format filled with each label, "
        "scored by log-likelihood; outputs are well-formed by construction, so format "
        "compliance is not measured",
    )
    batch_size: int = Field(default=16, ge=1)
    max_batch_tokens: int | None = Field(
        default=8192,
        ge=16,
        description="at most rows x (prompt + answer tokens) per batch, so long prompts go fewer at a time "
        "(null: batch_size rows whatever their length)",
    )
    max_new_tokens: int = Field(default=16, ge=1, le=MAX_NEW_TOKENS)
    bf16: bool = Field(
        default=False,
        description="bf16 autocast for predictions, probes and checks (several times faster on CPUs "
        "with bf16 matmul; greedy answers may differ from fp32 on near-ties)",
    )
    merge_check: bool = Field(
        default=False,
        description="for mergeable adapters (LoRA, DoRA, IA3): predict again with the adapter merged "
        "into a copy of the base and record whether the predictions are identical",
    )
    variability: VariabilitySpec | None = Field(
        default=None, description="also sample N generations per item and record the share of distinct outputs"
    )

    @model_validator(mode="after")
    def merge_check_needs_generation(self):
        if self.mode == "rank" and self.merge_check:
            raise ValueError(
                "merge_check compares generated answers; with mode: rank there are none to compare "
                "(set merge_check: false, or mode: generate)"
            )
        return self


class CostSpec(Strict):
    price_per_hour: float | None = Field(
        default=None, ge=0, description="price of this machine per hour; each variant's cost then has usd"
    )


class ProbeSpec(Strict):
    tasks: list[str] = Field(default_factory=list, description="lm-eval task names; bench ships offline bench_* tasks")
    limit: int | None = Field(default=100, ge=1, description="first N items of each task")


class AbstainSpec(Strict):
    """Selective prediction for classification: answer only when confident enough (docs/suites.md, "Abstention")."""

    target_accuracy: float = Field(
        gt=0,
        le=1,
        description="the accuracy wanted on the answered items; the lowest confidence threshold reaching it on "
        "the validation split is applied to test, and the report says whether it held there",
    )


class Resources(Strict):
    """What one variant's task asks of a Ray cluster (docs/scale.md); the local executor ignores it."""

    num_cpus: float = Field(default=1, ge=0)
    num_gpus: float = Field(default=0, ge=0)
    memory_gb: float | None = Field(default=None, gt=0, description="memory Ray reserves for the task")

    def ray_options(self) -> dict:
        options = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus}
        if self.memory_gb is not None:
            options["memory"] = int(self.memory_gb * 2**30)
        return options


class ReportSpec(Strict):
    practical_margin: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="the recommendation calls two variants tied only when the paired 95% interval of their headline "
        "gap lies within this many points either way (0.02 = 2 points; docs/report.md)",
    )


class ExecutionSpec(Strict):
    """Where variants run with ``bench run --executor ray``: resources per variant task."""

    resources: Resources = Field(default_factory=Resources, description="every variant's task, unless named below")
    variants: dict[str, Resources] = Field(
        default_factory=dict, description="per variant name, its own resources, e.g. {full: {num_gpus: 2}}"
    )

    def resources_for(self, name: str) -> Resources:
        return self.variants.get(name, self.resources)


class Suite(Strict):
    """A validated suite. ``variants`` is already grid-expanded and each entry typed by its kind."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: SafeName  # becomes the folder reports/<name>/
    description: str = ""
    seed: int = Field(default=0, ge=0, le=2**63 - 1)  # bounded: a 5,000-digit seed cannot even be printed
    seeds: int = Field(
        default=1,
        ge=1,
        le=MAX_SEEDS,
        strict=True,  # 1.5, "2" or true are mistakes, not counts
        description="train every trained variant this many times, each with its own seed (data order, "
        "initialisation, dropout); the variant's result is then the mean over seeds with an interval for item "
        "and seed variance (docs/suites.md, 'Seeds'); a variant may set its own seeds:",
    )
    task: TaskSpec
    base_model: BaseModelSpec
    training: TrainingSpec = TrainingSpec()
    inference: InferenceSpec = InferenceSpec()
    prompts: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")], str] = Field(
        default_factory=dict,
        description="named system prompts (name: text) that variants choose with prompt: NAME, "
        "e.g. to compare prompts with grid: {prompt: [terse, detailed]}",
    )
    variants: list[Any] = Field(min_length=1)
    probes: ProbeSpec = ProbeSpec()
    cost: CostSpec = CostSpec()
    abstain: AbstainSpec | None = Field(
        default=None,
        description="classification: choose a confidence threshold on validation for this accuracy and report "
        "coverage and accuracy at it on test (every variant also predicts the validation items)",
    )

    @field_validator("abstain")
    @classmethod
    def abstain_needs_classification(cls, abstain, info):
        task = info.data.get("task")
        if abstain is not None and task is not None and task.type != "classification":
            raise ValueError(
                f"abstain: needs a confidence per label answer, so task type classification, not {task.type}"
            )
        return abstain

    allow_paths_outside_suite: bool = Field(
        default=False,
        description="says the suite reads files outside its folder; only --allow-path DIR (or BENCH_ALLOW_PATHS) "
        "grants it, and without a grant the suite is refused (docs/security.md)",
    )
    gate: GateSpec = Field(default_factory=GateSpec, description="gate rules (see docs/gate.md)")
    report: ReportSpec = Field(default_factory=ReportSpec, description="how the report recommends (docs/report.md)")
    execution: ExecutionSpec = Field(
        default_factory=ExecutionSpec, description="resources per variant on a Ray cluster (docs/scale.md)"
    )
    judge: JudgeSpec | None = Field(
        default=None, description="model-graded scoring of generation outputs (docs/judge.md)"
    )
    tracking: TrackingSpec | None = Field(
        default=None, description="copy each run into an experiment tracker (MLflow; docs/tracking.md)"
    )

    @model_validator(mode="after")
    def execution_names_variants(self):
        names = [v.get("name") if isinstance(v, dict) else getattr(v, "name", None) for v in self.variants]
        unknown = sorted(set(self.execution.variants) - set(names))
        if unknown:
            raise ValueError(f"execution.variants: no variant is named {', '.join(unknown)} (variants: {names})")
        return self

    @model_validator(mode="after")
    def judge_fits_suite(self):
        if self.judge is None:
            return self
        if self.task.type != "generation":
            raise ValueError(f"judge: grades free text, so it needs task type generation, not {self.task.type}")
        names = [v.get("name") if isinstance(v, dict) else getattr(v, "name", None) for v in self.variants]
        if self.judge.reference is not None and self.judge.reference not in names:
            raise ValueError(f"judge.reference: no variant is named {self.judge.reference!r} (variants: {names})")
        return self
