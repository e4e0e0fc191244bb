"""A variant's result (the store's ``result.json``, and one entry of results.json) and results.json itself.

A result has one of two layouts, both declared here:

* finished (``status: ok``): name, kind, status, reason, config, prompt, inference,
  training_config, seed, n_items, metrics, cost, training, probes, merge_check,
  variability (prompt and inference: how the variant was asked, absent for a
  classical classifier and in records older than per-variant prompts);
* not run (``skipped`` or ``failed``): name, kind, status, reason, config,
  metrics (null), cost ({}), training (null), and for a failure its traceback.

The store adds ``key`` (the content key) when it saves an entry; a run adds
``reused`` when it gathers the entry into results.json. A variant trained with
several seeds (docs/suites.md, "Seeds") has ``seeds`` and no store key: it is
the mean of its members, each an entry of its own that has ``member_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import ClassVar

from harness.core.errors import BenchError
from harness.records.base import JsonRecord
from harness.records.cost import Cost

OK, SKIPPED, FAILED = "ok", "skipped", "failed"
FINISHED_LAYOUT = (
    "name",
    "kind",
    "status",
    "reason",
    "config",
    "prompt",
    "inference",
    "training_config",
    "seed",
    "n_items",
    "metrics",
    "cost",
    "training",
    "probes",
    "merge_check",
    "variability",
)
NOT_RUN_LAYOUT = ("name", "kind", "status", "reason", "config", "metrics", "cost", "training")


@dataclass(frozen=True)
class VariantResult(JsonRecord):
    name: str
    kind: str
    status: str  # ok | skipped | failed
    reason: str | None = None  # why it was skipped or failed
    config: dict | None = None  # the variant's parameters, as the suite resolved them
    # {source: suite | variant | prompts, name, system_prompt}: the system prompt it was asked with
    prompt: dict | None = None
    inference: dict | None = None  # the inference settings it answered with: the suite's, its overrides on top
    training_config: dict | None = None  # resolved training settings; trained kinds only
    seed: int | None = None
    n_items: int | None = None
    metrics: dict | None = None  # the task type's metrics, each {value, ci_low, ci_high, n, method}, and its breakdowns
    cost: Cost | None = None
    training: dict | None = None  # {seconds, steps, trained_tokens, loss_curve, eval_curve, ...}; trained kinds only
    probes: dict | None = None  # per probe task, this variant against the base (results.json "probes" gathers them)
    merge_check: dict | None = None
    variability: dict | None = None
    traceback: str | None = None  # a failure's traceback
    # A variant trained once per seed (run/seeds.py): [{seed, variant}], each seed and its member's name; its
    # metrics are then means over seeds, each with per_seed, sd_between_seeds and a two-level bootstrap interval.
    seeds: list[dict] | None = None
    member_of: str | None = None  # a seed's member: the name of the variant whose mean it is part of
    key: str | None = None  # content key in the variant store
    reused: bool | None = None  # taken from an earlier run's store entry

    NESTED: ClassVar = {"cost": Cost.from_json}

    @classmethod
    def finished(
        cls,
        *,
        name: str,
        kind: str,
        config: dict,
        training_config: dict | None,
        seed: int,
        n_items: int,
        metrics: dict,
        cost: Cost,
        training: dict | None,
        probes: dict | None,
        merge_check: dict | None,
        variability: dict | None,
        prompt: dict | None = None,
        inference: dict | None = None,
    ) -> VariantResult:
        # A classical classifier has no prompt or inference settings: those keys are absent, not null.
        absent = {k for k, v in (("prompt", prompt), ("inference", inference)) if v is None}
        layout = tuple(k for k in FINISHED_LAYOUT if k not in absent)
        return cls(
            name=name,
            kind=kind,
            status=OK,
            reason=None,
            config=config,
            prompt=prompt,
            inference=inference,
            training_config=training_config,
            seed=seed,
            n_items=n_items,
            metrics=metrics,
            cost=cost,
            training=training,
            probes=probes,
            merge_check=merge_check,
            variability=variability,
            key_order=layout,
        )

    @classmethod
    def not_run(
        cls, *, name: str, kind: str, status: str, reason: str, config: dict, traceback: str | None = None
    ) -> VariantResult:
        return cls(
            name=name,
            kind=kind,
            status=status,
            reason=reason,
            config=config,
            metrics=None,
            cost=Cost(),
            training=None,
            traceback=traceback,
            key_order=NOT_RUN_LAYOUT,
        )

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def trains(self) -> bool:
        return bool(self.training)

    @property
    def costs(self) -> Cost:
        """The cost record, empty (not None) when the result has none."""
        return self.cost if self.cost is not None else Cost()

    def metric(self, key: str) -> dict:
        """One metric's record ({value, ci_low, ci_high, n, method}); empty when the result lacks it."""
        return (self.metrics or {}).get(key) or {}


@dataclass(frozen=True)
class Results(JsonRecord):
    """results.json: the suite, the task, every variant's result, and the forgetting probes table."""

    schema_version: int | None = None
    suite: dict | None = None  # {name, path, sha256}
    task: dict | None = None  # {type, labels, n_test_items}
    variants: dict[str, VariantResult] = field(default_factory=dict)
    probes: dict | None = (
        None  # per probe task: {metric, base, status, reason, variants: {name: {score, delta, ci_low, ...}}}
    )

    NESTED: ClassVar = {"variants": lambda variants: {name: VariantResult.from_json(r) for name, r in variants.items()}}

    @property
    def task_type(self) -> str:
        """classification, extraction or generation; runs that predate task types are classification."""
        return (self.task or {}).get("type") or "classification"

    @property
    def labels(self) -> list[str]:
        return list((self.task or {}).get("labels") or [])

    @property
    def ok_variants(self) -> list[str]:
        return [name for name, result in self.variants.items() if result.ok]

    def probes_of(self, variant: str) -> dict[str, dict]:
        """Per probe task: {base, score, delta, ci_low, ci_high, n, ...} of this variant (empty if none)."""
        out = {}
        for task, entry in (self.probes or {}).items():
            mine = (entry.get("variants") or {}).get(variant)
            if mine is not None:
                out[task] = {"base": entry.get("base"), **mine}
        return out

    def variant(self, name: str, *, run: str | Path = "the run") -> VariantResult:
        """The named variant's result; an unknown name is an error that says what there is."""
        if name not in self.variants:
            close = get_close_matches(name, list(self.variants), n=1)
            raise BenchError(
                f"run {run} has no variant '{name}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                hint=f"choose one with --variant: {', '.join(self.variants) or 'none'}",
            )
        return self.variants[name]

    def finished_variant(self, name: str, *, run: str | Path = "the run", hint: str) -> VariantResult:
        """The named variant's result, which must have finished; ``hint`` says what the caller needs it for."""
        result = self.variant(name, run=run)
        if not result.ok:
            raise BenchError(
                f"variant '{name}' did not finish in run {run} (status {result.status}: {result.reason})", hint=hint
            )
        return result
