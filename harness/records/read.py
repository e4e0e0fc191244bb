"""The one reader of a run folder: ``read_run(path) -> RunRecord``.

The gate, the report and the packager read what ``bench run`` wrote through
this module and nothing else. A missing or damaged file is a BenchError that
names the file and says what to do; a missing samples.jsonl is an error only
for a reader that needs per-item rows (``RunRecord.rows``).

The one extra a reader may ask for is the input text of each test item
(``RunRecord.inputs``), read from the test file the manifest names, and only
while that file's fingerprint still matches the run's, so an example never
shows a text the model did not see.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.core.errors import BenchError
from harness.records.manifest import Manifest
from harness.records.rows import SampleRow
from harness.records.variant import Results, VariantResult

MANIFEST, RESULTS, SAMPLES, RESULT = "manifest.json", "results.json", "samples.jsonl", "result.json"
_DAMAGED = (
    "the run folder may be damaged; rerun `bench run` with the same --out to rebuild it (finished variants are reused)"
)


@dataclass(frozen=True)
class RunRecord:
    path: Path
    manifest: Manifest
    results: Results
    samples: list[SampleRow] | None  # None when samples.jsonl is missing

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def suite_name(self) -> str:
        return self.manifest.suite_name or (self.results.suite or {}).get("name") or "bench"

    @property
    def task_type(self) -> str:
        return self.results.task_type

    @property
    def labels(self) -> list[str]:
        return self.results.labels

    @property
    def seed(self) -> int:
        return self.manifest.seed

    @property
    def test_data(self) -> dict:
        return self.manifest.test_data

    @property
    def ok_variants(self) -> list[str]:
        return self.results.ok_variants

    def result(self, variant: str) -> VariantResult:
        """The variant's result, whatever its status; an unknown name is an error that lists the run's variants."""
        return self.results.variant(variant, run=self.path)

    def finished_result(self, variant: str, *, hint: str) -> VariantResult:
        """The variant's result, which must have finished; ``hint`` says what the reader needs it for."""
        return self.results.finished_variant(variant, run=self.path, hint=hint)

    def samples_of(self, variant: str) -> dict[str, SampleRow]:
        """The variant's rows by item_id (the key every paired comparison joins on); empty without samples.jsonl."""
        return {row.item_id: row for row in self.samples or [] if row.variant == variant}

    def rows(self, variant: str) -> list[SampleRow]:
        """The variant's rows, which must exist: for readers that compare or describe per item."""
        file = self.path / SAMPLES
        if self.samples is None:
            raise BenchError(
                f"{file} is missing",
                hint="per-item rows are needed here; rerun `bench run` with the same "
                "--out to rebuild it (finished variants are reused)",
            )
        rows = [row for row in self.samples if row.variant == variant]
        if not rows:
            raise BenchError(f"{file} has no rows for variant '{variant}'", hint="rerun `bench run` to rebuild it")
        return rows

    @cached_property
    def _inputs(self) -> tuple[dict[str, str], str | None]:
        return item_inputs(self.manifest)

    @property
    def inputs(self) -> dict[str, str]:
        """item_id -> the last user message of the test item, when the test file is still the one the run used."""
        return self._inputs[0]

    @property
    def inputs_note(self) -> str | None:
        """Why ``inputs`` is empty, when it is."""
        return self._inputs[1]


def read_run(path: str | Path) -> RunRecord:
    """Read a run folder: manifest.json and results.json must be there and whole; samples.jsonl is read if it is."""
    path = Path(path)
    if not path.is_dir():
        raise BenchError(
            f"run folder not found: {path}",
            hint="pass the folder `bench run` printed, e.g. reports/<suite>/<timestamp>",
        )
    manifest = read_manifest(path)
    results = _object(path / RESULTS)
    if "variants" not in results or not isinstance(results["variants"], dict):
        raise BenchError(f"{path / RESULTS} does not look like bench results (no 'variants')", hint=_DAMAGED)
    samples = read_samples(path / SAMPLES) if (path / SAMPLES).exists() else None
    return RunRecord(path=path, manifest=manifest, results=_typed(Results, results, path / RESULTS), samples=samples)


def read_manifest(run_dir: str | Path) -> Manifest:
    file = Path(run_dir) / MANIFEST
    return _typed(Manifest, _object(file), file)


def read_samples(path: Path) -> list[SampleRow]:
    """samples.jsonl, one row a line (a run folder's, or a store entry's)."""
    rows = []
    for line_no, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(SampleRow.from_json(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise BenchError(
                f"{path}:{line_no} is not a sample row ({getattr(exc, 'msg', exc)})", hint=_DAMAGED
            ) from None
    return rows


def read_variant_result(folder: Path) -> VariantResult | None:
    """A store entry's result.json; None when there is none (the entry has not finished)."""
    file = Path(folder) / RESULT
    return _typed(VariantResult, _object(file), file) if file.exists() else None


def _typed(cls, data: dict, file: Path):
    try:
        return cls.from_json(data)
    except TypeError as exc:  # a nested record that is not a JSON object
        raise BenchError(f"{file} is not in the shape bench writes ({exc})", hint=_DAMAGED) from None


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchError(
            f"{file} is missing: {file.parent} is not a finished bench run folder",
            hint="pass the folder `bench run` printed after it finished; a stopped run finishes when "
            "rerun with the same --out",
        ) from None
    except UnicodeDecodeError as exc:
        raise BenchError(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start})", hint=_DAMAGED) from None
    except OSError as exc:
        raise BenchError(f"cannot read {file}: {exc.strerror or exc}") from None


def _object(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(_text(file))
    except json.JSONDecodeError as exc:
        raise BenchError(f"{file} is not valid JSON ({exc.msg}, line {exc.lineno})", hint=_DAMAGED) from None
    if not isinstance(data, dict):
        raise BenchError(f"{file} holds a JSON {type(data).__name__}, not the object bench writes", hint=_DAMAGED)
    return data


def item_inputs(manifest: Manifest) -> tuple[dict[str, str], str | None]:
    """item_id -> the last user message of each test item, and why there are none when there are none."""
    test = manifest.test_data
    if not test or not test.get("path"):
        return {}, "the manifest names no test file"
    if (test.get("source") or {}).get("format", "chat") != "chat":
        from harness.data.tables import recorded_inputs  # a table: its rows read again through its column mapping

        return recorded_inputs(test)
    file = Path(test["path"])
    try:
        raw = file.read_bytes()
    except OSError:
        return {}, f"the test file {file} is not on this machine"
    if test.get("sha256") and hashlib.sha256(raw).hexdigest() != test["sha256"]:
        return {}, f"the test file {file} has changed since the run"
    inputs = {}
    for line_no, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            users = [m["content"] for m in row["messages"][:-1] if m.get("role") == "user"]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            continue  # the run validated this file; a bad line here only costs one example's input
        # Same id rule as harness.data.chat: an explicit id, else "<split>-<line>".
        inputs[str(row.get("id", f"test-{line_no}"))] = users[-1] if users else ""
    return inputs, None
