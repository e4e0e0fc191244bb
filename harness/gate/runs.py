"""A run as the gate reads it: the one run record (harness.records), and what the gate asks of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from harness.core.errors import BenchError
from harness.records import RunRecord, VariantResult
from harness.records import read_run as read_run_record
from harness.suite.gate_rules import GateSpec
from harness.tasks.base import item_fields


@dataclass(frozen=True)
class GatedRun(RunRecord):
    def gate_spec(self) -> GateSpec:
        raw = self.manifest.config.get("gate") or {}
        try:
            return GateSpec.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"gate.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise BenchError(
                f"{self.path / 'manifest.json'}: the suite's gate rules are not valid: {problems}",
                hint="fix the gate: section of the suite (see docs/gate.md) and rerun",
            ) from None

    def variant(self, name: str) -> VariantResult:
        """The variant's result record; it must exist and have finished."""
        return self.finished_result(name, hint="fix the variant and rerun; the gate compares only finished variants")

    def items(self, name: str) -> list[dict]:
        """The variant's per-item rows, reduced to what a comparison needs."""
        self.variant(name)
        fields = item_fields(self.task_type)  # the task's own fields its metrics are computed from, kept as written
        return [row.outcome(tuple(key for key in row if key in fields)) for row in self.rows(name)]

    def probes(self, name: str) -> dict[str, dict]:
        """Per probe task: {base, score, delta, ci_low, ci_high, n, status} for this variant (empty if none)."""
        return self.results.probes_of(name)


def read_run(run_dir: str | Path) -> GatedRun:
    record = read_run_record(run_dir)
    return GatedRun(path=record.path, manifest=record.manifest, results=record.results, samples=record.samples)
