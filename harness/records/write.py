"""The one writer of run records. ``bench run`` calls these; nothing else writes a record file.

    write_manifest(run_dir, manifest)        manifest.json (first, then again as the status changes)
    record_stages(run_dir, stages)           the manifest's seconds per stage, once the report's are known too
    record_tracking(run_dir, tracking)       where the run was tracked (MLflow run ids), once it has been
    write_variant(entry, result, samples)    a store entry: samples.jsonl, then result.json, which marks it finished
    write_samples(run_dir, rows)             the run folder's samples.jsonl, every variant's rows
    write_results(run_dir, results)          results.json

Each takes the typed record or a JSON object of the same shape (read into the
record, so every write goes through one schema). Files are written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, TypeVar

from harness.core.files import write_json, write_jsonl
from harness.records.base import JsonRecord
from harness.records.manifest import Manifest
from harness.records.read import MANIFEST, RESULT, RESULTS, SAMPLES, read_manifest
from harness.records.rows import SampleRow
from harness.records.variant import Results, VariantResult

R = TypeVar("R", bound=JsonRecord)


def write_manifest(run_dir: Path, manifest: Manifest | Mapping) -> None:
    write_json(Path(run_dir) / MANIFEST, _typed(Manifest, manifest).to_json())


def record_stages(run_dir: Path, stages: dict[str, float]) -> None:
    """Write wall seconds per stage into a finished run's manifest (the report's own are known only after it)."""
    write_manifest(run_dir, read_manifest(run_dir).replace(stages=stages))


def record_tracking(run_dir: Path, tracking: dict) -> None:
    """Write where a finished run was tracked (harness.tracking) into its manifest."""
    write_manifest(run_dir, read_manifest(run_dir).replace(tracking=tracking))


def write_results(run_dir: Path, results: Results | Mapping) -> None:
    write_json(Path(run_dir) / RESULTS, _typed(Results, results).to_json())


def write_samples(folder: Path, rows: Iterable[SampleRow | Mapping]) -> None:
    write_jsonl(Path(folder) / SAMPLES, (_typed(SampleRow, row).to_json() for row in rows))


def write_variant_result(folder: Path, result: VariantResult | Mapping) -> None:
    write_json(Path(folder) / RESULT, _typed(VariantResult, result).to_json())


def write_variant(folder: Path, result: VariantResult | Mapping, samples: Iterable[SampleRow | Mapping]) -> None:
    """A finished store entry: its rows first, its result last (an entry with a result.json is finished)."""
    write_samples(folder, samples)
    write_variant_result(folder, result)


def _typed(cls: type[R], record: R | Mapping) -> R:
    return record if isinstance(record, cls) else cls.from_json(record)
