"""Baselines: one variant's per-item results from a run, frozen into baselines/<suite>.json.

A baseline is meant to be committed. It holds what a later comparison needs and
what a reviewer needs to trust it:
  * per item: id and content hash (the pairing key), gold, parsed answer,
    correct, format ok, and the task's own fields the gate computes metrics
    from (extraction: parse ok and per-field counts; generation: ROUGE-L, chrF);
  * the aggregates and cost the run reported, and the variant's probe scores;
  * the test set's fingerprint, so a changed test set is noticed, never compared;
  * the run's manifest: suite hash, resolved config, packages, git commit, machine;
  * schema 2: ``runs``, one entry per run the baseline was saved from (reruns,
    or the per-seed members of a variant trained with several seeds), each with
    its own per-item rows, so the gate can measure how much whole runs differ.
    ``items`` is the first run's rows, as in schema 1; schema 1 files still load
    (as one run).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from harness.core.errors import BenchError
from harness.core.files import read_json, write_json
from harness.core.limits import clip
from harness.gate.runs import GatedRun, read_run
from harness.tasks import metric_keys

BASELINE_SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: one run, no ``runs``
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


def seed_members(run: GatedRun, variant: str) -> list[tuple[str, int | None]]:
    """(member variant, seed) for each run a variant stands for: its per-seed members when it was trained
    with several seeds (the result record's ``seeds: [{"seed", "variant"}]``), else itself.

    Read defensively: runs from before seeds have no such field, and a malformed one is an error, not a guess.
    """
    record = run.variant(variant)
    seeds = getattr(record, "seeds", None)
    if seeds is None and hasattr(record, "model_extra"):
        seeds = (record.model_extra or {}).get("seeds")
    if not seeds:
        return [(variant, None)]
    if not isinstance(seeds, list) or not all(isinstance(s, dict) and isinstance(s.get("variant"), str) for s in seeds):
        raise BenchError(
            f"{run.path}/results.json: variants.{variant}.seeds: expected a list of {{seed, variant}} objects, "
            f"got {clip(seeds)}"
        )
    return [(entry["variant"], entry.get("seed")) for entry in seeds]


def _run_entry(run: GatedRun, variant: str, seed: int | None) -> dict:
    record = run.variant(variant)
    return {
        "source_run": str(run.path),
        "variant": variant,
        "variant_key": record.key,
        "seed": seed,
        "git_commit": run.manifest.to_json().get("git_commit"),
        "items": run.items(variant),
    }


def build_baseline(run: GatedRun, variant: str, more: Sequence[GatedRun] = ()) -> dict:
    """The baseline of ``variant``: from ``run``, and from each of ``more`` (reruns of the same suite).

    Every run, and every per-seed member of a variant trained with several seeds, is one entry of ``runs``.
    """
    record = run.variant(variant)
    if not run.test_data.get("sha256"):
        raise BenchError(
            f"{run.path}/manifest.json records no test-set fingerprint (data.test.sha256)",
            hint="rerun `bench run`; a baseline without a fingerprint could not detect a changed test set",
        )
    runs = []
    for source in (run, *more):
        if source.suite_name != run.suite_name or source.test_data.get("sha256") != run.test_data.get("sha256"):
            raise BenchError(
                f"{source.path} is not a rerun of {run.path}: suite '{source.suite_name}', test set sha256 "
                f"{str(source.test_data.get('sha256'))[:12]} (the first run: '{run.suite_name}', "
                f"{str(run.test_data.get('sha256'))[:12]})",
                hint="a baseline's runs must be the same suite on the same test set",
            )
        runs += [_run_entry(source, member, seed) for member, seed in seed_members(source, variant)]
    items = runs[0]["items"]
    keys = {(str(row["item_id"]), row.get("item_hash")) for row in items}
    for entry in runs[1:]:
        if {(str(row["item_id"]), row.get("item_hash")) for row in entry["items"]} != keys:
            raise BenchError(
                f"{entry['source_run']} (variant {entry['variant']}) did not answer the same items as "
                f"{runs[0]['source_run']} (variant {runs[0]['variant']})",
                hint="save the baseline from runs with the same test_limit",
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
        "runs": runs,
    }


def save_baseline(
    run_dir: str | Path | Sequence[str | Path], variant: str | None = None, out: str | Path | None = None
) -> tuple[Path, dict]:
    """Write the baseline for one variant of one finished run, or of several reruns; returns (path, baseline)."""
    dirs = [run_dir] if isinstance(run_dir, (str, Path)) else list(run_dir)
    run, *more = [read_run(d) for d in dirs]
    baseline = build_baseline(run, choose_variant(run, variant), more)
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
    if version not in READABLE_VERSIONS:
        raise BenchError(
            f"{path} has baseline schema_version {version}; this bench reads {', '.join(map(str, READABLE_VERSIONS))}",
            hint="save the baseline again with this version of bench",
        )
    _check_items(path, baseline.get("items"))
    runs = baseline.get("runs")
    if runs is None:  # schema 1: the one run is the items
        baseline["runs"] = [
            {"source_run": baseline.get("source_run"), "variant": baseline.get("variant"), "items": baseline["items"]}
        ]
    elif not isinstance(runs, list) or not runs:
        raise BenchError(f"{path}: runs: expected a non-empty list of runs, got {clip(runs)}")
    else:
        for index, entry in enumerate(runs):
            if not isinstance(entry, dict):
                raise BenchError(f"{path}: runs[{index}]: expected an object, got {clip(entry)}")
            _check_items(path, entry.get("items"), f"runs[{index}].items")
    return baseline


def baseline_runs(baseline: dict) -> list[list[dict]]:
    """The per-item rows of each run the baseline was saved from (one for schema 1)."""
    return [entry["items"] for entry in baseline.get("runs") or [{"items": baseline["items"]}]]


def _check_items(path: Path, items, field: str = "items") -> None:
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
        raise bad(field, f"expected a non-empty list of per-item rows, got {clip(items)}")
    seen: dict[str, int] = {}
    for index, row in enumerate(items):
        where = f"{field}[{index}]"
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
