"""The suite's ``gate:`` section: which regressions stop CI, and how sure we must be.

    gate:
      alpha: 0.01              # one-sided level of every statistical rule
      inconclusive: warn       # pass | warn | fail: what a worse-but-not-significant result does
      floors:                  # absolute minimums for the run itself
        format_compliance: 0.98
      allowed_drop:            # against the baseline, paired on shared items; 0.02 = 2 points
        accuracy: 0.0
      forgetting:              # probe score drop against the base model; "*" = every probe
        bench_world_knowledge: 0.05
      cost_limits:             # plain upper bounds on the run's measured cost
        train_seconds: 3600
        peak_rss_mb: 16000

Every share is a fraction (0.02 is 2 points). Why the defaults are what they
are, with the simulation behind them: docs/gate.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from harness.spec.schema import Strict

class MetricLimits(Strict):
    """One limit per scored metric, as a share: 0.98 is 98%, 0.02 is 2 points."""

    accuracy: float | None = Field(default=None, ge=0, le=1)
    macro_f1: float | None = Field(default=None, ge=0, le=1)
    format_compliance: float | None = Field(default=None, ge=0, le=1)

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
    """Rules ``bench gate`` checks a run against. The defaults catch any significant accuracy drop."""

    alpha: float = Field(default=0.01, gt=0, le=0.2, description=(
        "one-sided significance level of each statistical rule: the most often a rule may fail "
        "when the run is really no worse than allowed (e.g. rerunning the same adapter)"))
    inconclusive: Literal["pass", "warn", "fail"] = Field(default="warn", description=(
        "a result worse than allowed but not significant: pass silently, pass with a warning, or fail"))
    floors: MetricLimits = Field(default_factory=MetricLimits, description=(
        "minimum value of a metric on the run; fails only when the run is significantly below it"))
    allowed_drop: MetricLimits = Field(default_factory=lambda: MetricLimits(accuracy=0.0), description=(
        "largest drop against the baseline that is not a regression (0.02 = 2 points); "
        "default: accuracy 0, any significant drop fails. Writing this key replaces the default"))
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

    def forgetting_limit(self, probe: str) -> float | None:
        return self.forgetting.get(probe, self.forgetting.get("*"))
