"""Read what the gate needs from a run folder: manifest, results, one variant's per-item rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from pydantic import ValidationError

from harness.core.errors import BenchError
from harness.suite.gate_rules import GateSpec
from harness.core.files import read_json, read_jsonl

ITEM_FIELDS = ("item_id", "item_hash", "gold", "parsed", "correct", "format_ok")
# The task's own per-item fields that gated metrics are computed from (harness/gate/metrics.py), kept where written.
TASK_ITEM_FIELDS = ("parse_ok", "field_counts", "rouge_l", "chrf")


@dataclass(frozen=True)
class RunFolder:
    path: Path
    manifest: dict
    results: dict

    @property
    def suite_name(self) -> str:
        return self.manifest["suite"]["name"]

    @property
    def test_data(self) -> dict:
        """The test split's fingerprint as the run recorded it: path, sha256, items."""
        return self.manifest.get("data", {}).get("test") or {}

    @property
    def seed(self) -> int:
        return int(self.manifest.get("resolved_config", {}).get("seed", 0))

    @property
    def task_type(self) -> str:
        """classification, extraction or generation; runs that predate task types are classification."""
        return (self.results.get("task") or {}).get("type") or "classification"

    @property
    def labels(self) -> list[str]:
        return list(self.results.get("task", {}).get("labels") or [])

    def gate_spec(self) -> GateSpec:
        raw = self.manifest.get("resolved_config", {}).get("gate") or {}
        try:
            return GateSpec.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"gate.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise BenchError(f"{self.path / 'manifest.json'}: the suite's gate rules are not valid: {problems}",
                             hint="fix the gate: section of the suite (see docs/gate.md) and rerun") from None

    def ok_variants(self) -> list[str]:
        return [name for name, record in self.results.get("variants", {}).items() if record.get("status") == "ok"]

    def variant(self, name: str) -> dict:
        """The variant's result record; it must exist and have finished."""
        variants = self.results.get("variants", {})
        if name not in variants:
            close = get_close_matches(name, list(variants), n=1)
            raise BenchError(f"run {self.path} has no variant '{name}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                             hint=f"choose one with --variant: {', '.join(variants) or 'none'}")
        record = variants[name]
        if record.get("status") != "ok":
            raise BenchError(f"variant '{name}' did not finish in run {self.path} "
                             f"(status {record.get('status')}: {record.get('reason')})",
                             hint="fix the variant and rerun; the gate compares only finished variants")
        return record

    def items(self, name: str) -> list[dict]:
        """The variant's per-item rows, reduced to what a comparison needs."""
        self.variant(name)
        path = self.path / "samples.jsonl"
        if not path.exists():
            raise BenchError(f"{path} is missing", hint="the gate compares per item; rerun `bench run` to rebuild it")
        rows = [row for row in read_jsonl(path) if row.get("variant") == name]
        if not rows:
            raise BenchError(f"{path} has no rows for variant '{name}'", hint="rerun `bench run` to rebuild it")
        return [{**{key: row.get(key) for key in ITEM_FIELDS}, **{key: row[key] for key in TASK_ITEM_FIELDS if key in row}}
                for row in rows]

    def probes(self, name: str) -> dict[str, dict]:
        """Per probe task: {base, score, delta, ci_low, ci_high, n, status} for this variant (empty if none)."""
        out = {}
        for task, entry in (self.results.get("probes") or {}).items():
            mine = (entry.get("variants") or {}).get(name)
            if mine is not None:
                out[task] = {"base": entry.get("base"), **mine}
        return out


def read_run(run_dir: str | Path) -> RunFolder:
    path = Path(run_dir)
    if not path.is_dir():
        raise BenchError(f"run folder not found: {path}", hint="pass the folder `bench run` printed, e.g. reports/<suite>/<time>")
    files = {}
    for name in ("manifest.json", "results.json"):
        file = path / name
        if not file.exists():
            raise BenchError(f"{file} is missing: {path} is not a finished run folder",
                             hint="pass the folder `bench run` printed after it finished")
        try:
            files[name] = read_json(file)
        except json.JSONDecodeError as exc:
            raise BenchError(f"{file} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    return RunFolder(path=path, manifest=files["manifest.json"], results=files["results.json"])
