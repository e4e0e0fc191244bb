"""The suite's ``gate:`` section: which regressions stop CI, and how sure we must be.

    gate:
      alpha: 0.01              # family-wise one-sided level of the statistical rules (Holm)
      family_control: holm     # holm | none (each rule at alpha)
      min_baseline_runs: 1     # refuse baselines saved from fewer runs
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
gate checks the task type's defaults (its metrics declared ``gate_default``): any significant
drop of accuracy for classification; of field F1 (micro) and of schema
compliance for extraction; of the pass rate and of constraint compliance for
generation. Why, with the simulation behind them: docs/gate.md.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Annotated, Literal, Optional

from pydantic import ConfigDict, Field, RootModel, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harness.core.config import Strict
from harness.tasks.base import Metric, all_metrics, task_type, task_types

Share = Annotated[float, Field(ge=0, le=1)]


class MetricLimits(RootModel[dict[str, Optional[Share]]]):
    """One limit per scored metric, as a share: 0.98 is 98%, 0.02 is 2 points."""

    # The names are the metrics task types declare (harness/tasks), read when the suite is validated, so a
    # task type registered outside bench is gated like the built-in ones. Whether the suite's own task type
    # measures a named metric is checked by the loader (suite/load.py), where the task type is known.

    root: dict[str, Optional[Share]] = Field(default_factory=dict)
    model_config = ConfigDict(frozen=True, json_schema_extra=lambda schema, _cls: _metric_properties(schema))

    @model_validator(mode="wrap")
    @classmethod
    def names_a_declared_metric(cls, value, handler):
        """Unknown names and bad values are reported together, each at its own key."""
        if not isinstance(value, dict):
            return handler(value)
        known = all_metrics()
        allowed = sorted(known)
        errors = []
        for name in (name for name in value if name not in known):
            close = get_close_matches(str(name), allowed, n=1)
            message = (
                f"unknown key '{name}'"
                + (f"; did you mean '{close[0]}'?" if close else "")
                + f" (allowed: {', '.join(allowed)})"
            )
            errors.append({"type": PydanticCustomError("unknown_metric", message), "loc": (name,)})
        try:
            result = handler({name: limit for name, limit in value.items() if name in known})
        except ValidationError as exc:
            errors += [
                {"type": e["type"], "loc": e["loc"], "input": e["input"], **({"ctx": e["ctx"]} if "ctx" in e else {})}
                for e in exc.errors()
            ]
        if errors:
            raise ValidationError.from_exception_data("MetricLimits", errors)
        return result

    def limits(self) -> list[tuple[str, float]]:
        """The metrics that have a limit, in a stable order (the order task types declare them)."""
        order = {name: index for index, name in enumerate(all_metrics())}
        return sorted(
            ((name, value) for name, value in self.root.items() if value is not None),
            key=lambda pair: order.get(pair[0], len(order)),
        )


def _metric_properties(schema: dict) -> None:
    """The JSON Schema lists every declared metric, so an editor completes them."""
    schema.pop("additionalProperties", None)
    schema["properties"] = {
        name: {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "; ".join(
                f"{m.label} ({t})" + (f": {m.means}" if m.means and m.means != m.label else "")
                for t, m in _declarers(name)
            ),
        }
        for name in all_metrics()
    }
    schema["additionalProperties"] = False


def _declarers(name: str) -> list[tuple[str, Metric]]:
    return [(t, m) for t, cls in task_types().items() for m in cls.metrics if m.key == name]


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

    alpha: float = Field(
        default=0.01,
        gt=0,
        le=0.2,
        description=(
            "one-sided significance level of each statistical rule: the most often a rule may fail "
            "when the run is really no worse than allowed (e.g. rerunning the same adapter)"
        ),
    )
    inconclusive: Literal["pass", "warn", "fail"] = Field(
        default="warn",
        description=("a result worse than allowed but not significant: pass silently, pass with a warning, or fail"),
    )
    family_control: Literal["holm", "none"] = Field(
        default="holm",
        description="holm: the statistical rules of one gate are one family, tested with Holm's step-down "
        "procedure so that an A/A run fails some rule at most alpha of the time; none: each rule at alpha",
    )
    min_baseline_runs: int = Field(
        default=1,
        ge=1,
        le=100,
        description="refuse a baseline saved from fewer runs (reruns or seeds) than this: with one run the gate "
        "cannot measure between-run variance (docs/gate.md, 'Between-run variance')",
    )
    floors: MetricLimits = Field(
        default_factory=MetricLimits,
        description=("minimum value of a metric on the run; fails only when the run is significantly below it"),
    )
    allowed_drop: MetricLimits | None = Field(
        default=None,
        description=(
            "largest drop against the baseline that is not a regression (0.02 = 2 points); "
            "default by task type: classification accuracy 0; extraction field_f1_micro 0 and format_compliance 0; "
            "generation accuracy 0 and format_compliance 0. Writing this key replaces the default"
        ),
    )
    forgetting: dict[str, float] = Field(
        default_factory=dict,
        description=("probe task -> largest drop of its score against the base model; '*' applies to every probe"),
    )
    cost_limits: CostLimits = Field(default_factory=CostLimits, description="upper bounds on measured cost")

    @field_validator("forgetting")
    @classmethod
    def shares(cls, limits: dict[str, float]) -> dict[str, float]:
        bad = [name for name, value in limits.items() if not 0 <= value <= 1]
        if bad:
            raise ValueError(f"forgetting limits are shares between 0 and 1 (0.05 = 5 points); check {bad}")
        return limits

    def drop_limits(self, name: str | None) -> list[tuple[str, float]]:
        """The allowed drops to check: the suite's own, else the task type's defaults."""
        if self.allowed_drop is not None:
            return self.allowed_drop.limits()
        return [(metric.key, 0.0) for metric in task_type(name).metrics if metric.gate_default]

    def forgetting_limit(self, probe: str) -> float | None:
        return self.forgetting.get(probe, self.forgetting.get("*"))
