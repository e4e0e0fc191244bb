"""The suite's ``gate:`` section: which regressions stop CI, and how sure we must be.

    gate:
      alpha: 0.01              # one-sided level of every statistical rule
      inconclusive: warn       # pass | warn | fail: what a worse-but-not-significant result does
      floors:                  # absolute minimums for the run itself
        format_compliance: 0.98
      allowed_drop:            # against the baseline, paired on shared items; 0.02 = 2 points
        accuracy: 0.0          # default: the task type's headline metric (and format compliance), see below
      forgetting:              # probe score drop against the base model; "*" = every probe
        bench_world_knowledge: 0.05
      cost_limits:             # plain upper bounds on the run's measured cost
        train_seconds: 3600
        peak_rss_mb: 16000

Every share is a fraction (0.02 is 2 points). Without ``allowed_drop`` the
gate checks the task type's defaults (``DEFAULT_ALLOWED_DROP``): any significant
drop of accuracy for classification; of field F1 (micro) and of schema
compliance for extraction; of the pass rate and of constraint compliance for
generation. Why, with the simulation behind them: docs/gate.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from harness.core.config import Strict

# The metrics each task type writes per item and in results.json, that a rule may name.
TASK_METRICS = {
    "classification": ("accuracy", "macro_f1", "format_compliance"),
    "extraction": ("accuracy", "field_f1_micro", "field_f1_macro", "parse_rate", "format_compliance"),
    "generation": ("accuracy", "rouge_l", "chrf", "format_compliance"),
}
# Without an allowed_drop: section: any significant drop of the headline metric, and, where a
# malformed answer is the costly failure (a JSON record a program reads, a text under rules),
# of format compliance too. Classification keeps the one rule the simulation in docs/gate.md sizes.
DEFAULT_ALLOWED_DROP = {
    "classification": {"accuracy": 0.0},
    "extraction": {"field_f1_micro": 0.0, "format_compliance": 0.0},
    "generation": {"accuracy": 0.0, "format_compliance": 0.0},
}


class MetricLimits(Strict):
    """One limit per scored metric, as a share: 0.98 is 98%, 0.02 is 2 points."""

    accuracy: float | None = Field(default=None, ge=0, le=1, description=(
        "share of items right: exact label (classification), whole record (extraction), pass (generation)"))
    macro_f1: float | None = Field(default=None, ge=0, le=1, description="classification only")
    format_compliance: float | None = Field(default=None, ge=0, le=1, description=(
        "share of well-formed answers: exact answer format, JSON fitting the schema, every constraint met"))
    field_f1_micro: float | None = Field(default=None, ge=0, le=1, description="extraction only")
    field_f1_macro: float | None = Field(default=None, ge=0, le=1, description="extraction only")
    parse_rate: float | None = Field(default=None, ge=0, le=1, description="extraction only: output is one JSON value")
    rouge_l: float | None = Field(default=None, ge=0, le=1, description="generation only: mean ROUGE-L F-measure")
    chrf: float | None = Field(default=None, ge=0, le=1, description="generation only: mean chrF, as a share")

    def limits(self) -> list[tuple[str, float]]:
        """The metrics that have a limit, in a stable order."""
        return [(name, value) for name, value in self.model_dump().items() if value is not None]


class CostLimits(Strict):
    """Upper bounds on the run's measured cost (results.json ``cost``); a breach fails outright."""

    train_seconds: float | None = Field(default=None, gt=0)
    infer_seconds: float | None = Field(default=None, gt=0)
    peak_rss_mb: float | None = Field(default=None, gt=0)
    peak_cuda_mb: float | None = Field(default=None, gt=0)
    trainable_params: float | None = Field(default=None, gt=0)
    adapter_bytes: float | None = Field(default=None, gt=0)

    def limits(self) -> list[tuple[str, float]]:
        return [(name, value) for name, value in self.model_dump().items() if value is not None]


class GateSpec(Strict):
    """Rules ``bench gate`` checks a run against. The defaults catch any significant drop of the task's
    headline metric (and, for extraction and generation, of format compliance)."""

    alpha: float = Field(default=0.01, gt=0, le=0.2, description=(
        "one-sided significance level of each statistical rule: the most often a rule may fail "
        "when the run is really no worse than allowed (e.g. rerunning the same adapter)"))
    inconclusive: Literal["pass", "warn", "fail"] = Field(default="warn", description=(
        "a result worse than allowed but not significant: pass silently, pass with a warning, or fail"))
    floors: MetricLimits = Field(default_factory=MetricLimits, description=(
        "minimum value of a metric on the run; fails only when the run is significantly below it"))
    allowed_drop: MetricLimits | None = Field(default=None, description=(
        "largest drop against the baseline that is not a regression (0.02 = 2 points); "
        "default by task type: classification accuracy 0; extraction field_f1_micro 0 and format_compliance 0; "
        "generation accuracy 0 and format_compliance 0. Writing this key replaces the default"))
    forgetting: dict[str, float] = Field(default_factory=dict, description=(
        "probe task -> largest drop of its score against the base model; '*' applies to every probe"))
    cost_limits: CostLimits = Field(default_factory=CostLimits, description="upper bounds on measured cost")

    @field_validator("forgetting")
    @classmethod
    def shares(cls, limits: dict[str, float]) -> dict[str, float]:
        bad = [name for name, value in limits.items() if not 0 <= value <= 1]
        if bad:
            raise ValueError(f"forgetting limits are shares between 0 and 1 (0.05 = 5 points); check {bad}")
        return limits

    def drop_limits(self, task_type: str) -> list[tuple[str, float]]:
        """The allowed drops to check: the suite's own, else the task type's defaults."""
        if self.allowed_drop is not None:
            return self.allowed_drop.limits()
        return list(DEFAULT_ALLOWED_DROP.get(task_type, DEFAULT_ALLOWED_DROP["classification"]).items())

    def forgetting_limit(self, probe: str) -> float | None:
        return self.forgetting.get(probe, self.forgetting.get("*"))
