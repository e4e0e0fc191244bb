"""Baselines: one variant's per-item results from a run, frozen into baselines/<suite>.json.

A baseline is meant to be committed. It holds what a later comparison needs and
what a reviewer needs to trust it:
  * per item: id and content hash (the pairing key), gold, parsed answer,
    correct, format ok, and the task's own fields the gate computes metrics
    from (extraction: parse ok and per-field counts; generation: ROUGE-L, chrF);
  * the aggregates and cost the run reported, and the variant's probe scores;
  * the test set's fingerprint, so a changed test set is noticed, never compared;
  * the run's manifest: suite hash, resolved config, packages, git commit, machine.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from harness.core.errors import BenchError
from harness.core.files import read_json, write_json
from harness.core.limits import clip
from harness.gate.runs import GatedRun, read_run
from harness.tasks import metric_keys

BASELINE_SCHEMA_VERSION = 1
BASELINE_KIND = "bench-baseline"
BASELINES_DIR = Path("baselines")


def default_baseline_path(suite_name: str) -> Path:
    """baselines/<suite>.json, relative to where bench runs (the repository root in CI)."""
    return BASELINES_DIR / f"{suite_name}.json"


def choose_variant(run: GatedRun, variant: str | None) -> str:
    if variant:
        return variant
    finished = run.ok_variants
    if len(finished) == 1:
        return finished[0]
    raise BenchError(
        f"run {run.path} has {len(finished)} finished variants; say which one is the baseline",
        hint=f"add --variant NAME (one of: {', '.join(finished) or 'none'})",
    )


def build_baseline(run: GatedRun, variant: str) -> dict:
    record = run.variant(variant)
    items = run.items(variant)
    if not run.test_data.get("sha256"):
        raise BenchError(
            f"{run.path}/manifest.json records no test-set fingerprint (data.test.sha256)",
            hint="rerun `bench run`; a baseline without a fingerprint could not detect a changed test set",
        )
    return {
        "schema_version": BASELINE_SCHEMA_VERSION,
        "kind": BASELINE_KIND,
        "suite": run.manifest.suite,
        "variant": variant,
        "variant_kind": record.kind,
        "variant_key": record.key,
        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source_run": str(run.path),
        "test_data": run.test_data,
        "task": run.results.task,
        "metrics": {
            name: value
            for name, value in (record.metrics or {}).items()
            if name in metric_keys(run.task_type) or name == "invalid_rate"
        },
        "cost": record.costs.to_json(),
        "probes": run.probes(variant),
        "manifest": run.manifest.to_json(),
        "items": items,
    }


def save_baseline(run_dir: str | Path, variant: str | None = None, out: str | Path | None = None) -> tuple[Path, dict]:
    """Write the baseline for one variant of a finished run; returns (path, baseline)."""
    run = read_run(run_dir)
    baseline = build_baseline(run, choose_variant(run, variant))
    path = Path(out) if out else default_baseline_path(run.suite_name)
    write_json(path, baseline)
    return path, baseline


def load_baseline(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise BenchError(
            f"no baseline at {path}", hint="save one from a run you trust: bench baseline save RUN_DIR --variant NAME"
        )
    try:
        baseline = read_json(path)
    except json.JSONDecodeError as exc:
        raise BenchError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:  # deeper than Python's parser goes; no baseline bench writes is
        raise BenchError(f"{path} is nested too deeply to be a bench baseline") from None
    except UnicodeDecodeError as exc:
        raise BenchError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except ValueError as exc:  # a number Python will not convert (more than 4,300 digits)
        raise BenchError(f"{path} is not valid JSON ({str(exc).split(';')[0][:120]})") from None
    if not isinstance(baseline, dict) or baseline.get("kind") != BASELINE_KIND:
        raise BenchError(
            f"{path} is not a bench baseline", hint="bench baseline save RUN_DIR --variant NAME writes one"
        )
    version = baseline.get("schema_version")
    if version != BASELINE_SCHEMA_VERSION:
        raise BenchError(
            f"{path} has baseline schema_version {version}; this bench reads {BASELINE_SCHEMA_VERSION}",
            hint="save the baseline again with this version of bench",
        )
    _check_items(path, baseline.get("items"))
    return baseline


def _check_items(path: Path, items) -> None:
    """The per-item rows the gate pairs and counts, checked before any is used.

    A baseline is committed, so it may be edited by hand or by a pull request:
    ``"correct": "false"`` would count as correct under Python's truthiness, and a
    row without ``item_id`` could not be paired. Each is an error naming the row.
    """

    def bad(where: str, message: str) -> BenchError:
        return BenchError(
            f"{path}: {where}: {message}",
            hint="save the baseline again from a run: bench baseline save RUN_DIR --variant NAME",
        )

    if not isinstance(items, list) or not items:
        raise bad("items", f"expected a non-empty list of per-item rows, got {clip(items)}")
    seen: dict[str, int] = {}
    for index, row in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(row, dict):
            raise bad(where, f"expected an object, got {clip(row)}")
        item_id = row.get("item_id")
        if isinstance(item_id, bool) or not isinstance(item_id, (str, int)):
            raise bad(f"{where}.item_id", f"expected a string or integer, got {clip(item_id)}")
        if str(item_id) in seen:
            raise bad(f"{where}.item_id", f"duplicate item '{clip(item_id)}' (first at items[{seen[str(item_id)]}])")
        seen[str(item_id)] = index
        for flag in ("correct", "format_ok"):
            if flag in row and not isinstance(row[flag], bool):
                raise bad(f"{where}.{flag}", f"expected true or false, got {clip(row[flag])}")
