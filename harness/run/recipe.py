"""`bench run`: suite -> data -> base model -> every variant -> records. The one place stages meet.

The recipe reads top to bottom: load and check the suite and its data, write
the manifest, load the base model once, probe it, evaluate each variant (or
find it finished in the store, by content key), then gather the variants into
the run folder. The report and the gate read that folder afterwards; they are
not called from here.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from harness import __version__
from harness.core import quiet
from harness.core.crashlog import note_run_folder
from harness.core.errors import BenchError
from harness.core.progress import Progress
from harness.core.trust import Trust
from harness.data.splits import load_suite_data
from harness.model.fingerprint import weights_fingerprint
from harness.model.generate import inference_precision
from harness.model.loading import load_base
from harness.model.precision import fit_precision
from harness.model.provision import check_suite_model
from harness.records.manifest import RECORDS_SCHEMA_VERSION, git_commit, machine, package_versions
from harness.records.write import write_manifest, write_results, write_samples
from harness.run.evaluate import EvaluationSettings, evaluate_variant
from harness.run.executor import LocalExecutor
from harness.run.forgetting import base_probe_scores, probes_table
from harness.run.store import UntrustedEntry, VariantStore, default_store_root, variant_key
from harness.suite import load_suite
from harness.tasks import task_from_spec
from harness.variants.base import Variant, VariantSkipped, variant_configs, variant_kinds
from harness.variants.environment import VariantEnvironment


@dataclass
class RunResult:
    run_dir: Path
    results: dict
    failed: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # wall seconds per stage, as in manifest.json


def default_out_dir(suite_name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("reports") / suite_name / stamp


def run_suite(
    suite_path: str | Path,
    out: str | Path | None = None,
    *,
    console: Console | None = None,
    only: list[str] | None = None,
    store_dir: str | Path | None = None,
    trust: Trust | None = None,
) -> RunResult:
    """``trust``: what the command line granted (remote code, folders outside the suite's); by default only
    what the environment grants (docs/security.md)."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    stages: dict[str, float] = {}

    # 1. The suite and its data, checked before anything slow happens.
    suite = load_suite(suite_path, variant_configs(), trust)
    check_suite_model(suite)  # a local model folder lies where the suite may read, before anything is written
    # bf16 on a machine that would emulate it runs in fp32 (model/precision.py), said here and in the manifest.
    spec, precision_changes = fit_precision(suite.spec)
    for setting, (asked, used) in precision_changes.items():
        console.print(
            f"[yellow]precision[/]: {setting} {asked} → {used}: this machine has no native bf16 "
            "(set base_model.precision_fallback: false to keep it)"
        )
    task = task_from_spec(spec.task)
    t0 = time.perf_counter()
    splits = load_suite_data(suite, task, warn=console.print)
    stages["load_data"] = time.perf_counter() - t0

    # 2. The run folder and its manifest: what is about to run, written first.
    run_dir = Path(out) if out else default_out_dir(spec.name)
    # Outside the repository by default (run/store.py), so a pull request cannot plant results in it.
    store = VariantStore(Path(store_dir) if store_dir else default_store_root())
    manifest = {
        "schema_version": RECORDS_SCHEMA_VERSION,
        "bench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "suite": {"name": spec.name, "path": str(suite.path), "sha256": suite.sha256},
        "resolved_config": spec.model_dump(mode="json"),
        "data": {name: split.summary() for name, split in splits.items()},
        "seeds": {"suite": spec.seed},
        "packages": package_versions(),
        "git_commit": git_commit(suite.folder),
        "machine": machine(),
        "precision_fallback": precision_changes,
        "status": "running",
        "store": str(store.root),
    }
    write_manifest(run_dir, manifest)
    note_run_folder(run_dir)  # from here a crash leaves its traceback in the run folder (crash.log)
    quiet.log_to(run_dir / quiet.LOG_NAME)  # the libraries' messages, when the CLI keeps them off the terminal

    kinds = variant_kinds()
    with Progress(console) as progress:
        # 3. The base model, loaded once and shared by every variant; its probe scores, once.
        t0 = time.perf_counter()
        with progress.task(f"load {spec.base_model.name}", total=None):
            base = load_base(
                spec.base_model.name, dtype=spec.base_model.dtype, trust_remote_code=spec.base_model.trust_remote_code
            )
            # Every variant key holds the weights' hash; computed here once, cached beside the store across runs.
            weights_fingerprint(base.source, cache_file=store.root / "fingerprints.json")
        stages["load_model"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with inference_precision(spec.inference.bf16):
            base_probes = base_probe_scores(base, spec, progress, store, run_dir, warn=console.print)
        stages["base_probes"] = time.perf_counter() - t0

        # 4. Every variant, in its frozen environment; finished ones come from the store.
        env = VariantEnvironment.of_suite(spec, suite, task=task, splits=splits, base=base, progress=progress)
        settings = EvaluationSettings(
            env=env,
            inference=spec.inference,
            probes=spec.probes,
            base_probes=base_probes,
            compute_dtype=spec.base_model.dtype,
            price_per_hour=spec.cost.price_per_hour,
        )
        variants = [kinds[c.kind](c, env) for c in spec.variants if not only or c.name in only]
        manifest["seeds"]["variants"] = {v.name: env.seed_for(v.name) for v in variants}
        data_sha256 = {name: split.sha256 for name, split in splits.items()}

        def job(variant: Variant) -> dict:
            key = variant_key(spec, data_sha256, variant)
            # Two runs sharing the store never write one entry at once; the second then reuses it.
            with store.lock(key, on_wait=lambda: console.print(f"{variant.name}: waiting for another run on {key}")):
                return compute_or_reuse(variant, key)

        def compute_or_reuse(variant: Variant, key: str) -> dict:
            try:
                done = store.finished(key)
            except UntrustedEntry as exc:
                console.print(
                    f"[yellow]![/] {variant.name}: stored result {key} in {store.root} failed verification "
                    f"({exc}); not trusted, recomputing"
                )
                done = None
            if done:
                console.print(f"[green]✓[/] {variant.name}: finished earlier (key {key}, store {store.root}), reused")
                return {**done, "reused": True}
            workdir = store.fresh(key)
            try:
                record = evaluate_variant(variant, settings, workdir)
            except VariantSkipped as exc:
                record = _not_run(variant, "skipped", str(exc))
            except BenchError:
                raise
            except Exception as exc:  # one broken variant must not lose the others
                console.print(f"[red]✗[/] {variant.name} failed: {exc}")
                record = _not_run(variant, "failed", f"{type(exc).__name__}: {exc}")
                record["traceback"] = traceback.format_exc()
            store.save(key, record)
            return {**store.finished(key), "reused": False}

        records: list[dict] = []
        try:
            for record in LocalExecutor().map(job, variants):
                records.append(record)
        except KeyboardInterrupt:
            manifest.update(status="interrupted", finished_variants=[r["name"] for r in records])
            write_manifest(run_dir, manifest)
            console.print(
                f"[yellow]interrupted[/]: finished variants kept in {store.root}: "
                f"{', '.join(r['name'] for r in records) or 'none'}"
            )
            raise

    # 5. The run folder: every variant's rows and record, gathered from the store.
    for record in records:
        cost = record["cost"]
        # This run's own seconds: a reused variant cost nothing now (its record keeps what it cost then).
        stages[f"variant:{record['name']}"] = (
            0.0
            if record["reused"]
            else sum(cost.get(part, 0) for part in ("prepare_seconds", "infer_seconds", "probe_seconds"))
        )
        store.link_into(record["key"], run_dir / "variants" / record["name"])
    write_samples(run_dir, [row for record in records for row in store.samples(record["key"])])
    results = {
        "schema_version": RECORDS_SCHEMA_VERSION,
        "suite": manifest["suite"],
        "task": {
            "type": spec.task.type,
            "labels": getattr(spec.task, "labels", None),
            "n_test_items": len(env.test_items()),
        },
        "variants": {r["name"]: r for r in records},
        "probes": probes_table(base_probes, records),
    }
    write_results(run_dir, results)
    stages["total"] = time.perf_counter() - started
    manifest.update(status="complete", stages=stages)
    write_manifest(run_dir, manifest)
    failed = [r["name"] for r in records if r["status"] == "failed"]
    return RunResult(run_dir=run_dir, results=results, failed=failed, stages=stages)


def _not_run(variant: Variant, status: str, reason: str) -> dict:
    return {
        "name": variant.name,
        "kind": variant.kind,
        "status": status,
        "reason": reason,
        "config": variant.config.model_dump(mode="json"),
        "metrics": None,
        "cost": {},
        "training": None,
        "samples": [],
    }
