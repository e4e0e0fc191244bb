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
from harness.core.allocator import allocator_record
from harness.core.crashlog import note_run_folder
from harness.core.errors import BenchError
from harness.core.heap import MMAP_THRESHOLD_BYTES, keep_heap_small
from harness.core.names import inside
from harness.core.onednn import cache_capacities
from harness.core.progress import Progress
from harness.core.threads import apply_thread_policy
from harness.core.trust import Trust
from harness.data.splits import load_suite_data
from harness.judge import prepare_judge
from harness.model.fingerprint import weights_fingerprint
from harness.model.generate import inference_precision
from harness.model.loading import load_base
from harness.model.precision import fit_precision
from harness.model.provision import check_suite_model
from harness.records.manifest import RECORDS_SCHEMA_VERSION, git_commit, machine, package_versions
from harness.records.write import write_manifest, write_results, write_samples, write_variant
from harness.run.cost import Measure
from harness.run.evaluate import EvaluationSettings, evaluate_variant, judge_outputs
from harness.run.executor import LocalExecutor, VariantJobs
from harness.run.forgetting import base_probe_scores, probes_table
from harness.run.seeds import check_seed_count, gather, plan
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
    seeds: int | None = None,
    executor: str = "local",
    address: str | None = None,
    threads: int | None = None,
) -> RunResult:
    """``trust``: what the command line granted (remote code, folders outside the suite's); by default only
    what the environment grants (docs/security.md). ``seeds``: train every trained variant this many times,
    over the suite's and the variants' own ``seeds:`` (run/seeds.py). ``threads``: torch's thread count
    (default ``BENCH_THREADS``, else the CPUs this process may use; core/threads.py)."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    stages: dict[str, float] = {}
    # Peak resident memory of the process during each stage, MB (run/cost.py: a thread samples it every 50 ms).
    peak_rss: dict[str, float] = {}
    # Threads from the CPUs this process may use, set once before torch first computes (core/threads.py).
    thread_policy = apply_thread_policy(threads)
    # Freed activations go back to the system: jemalloc's own decay (core/allocator.py), else glibc's heap setting.
    allocator = allocator_record()  # reads the process's mappings once
    heap_small = allocator["name"] == "glibc" and keep_heap_small()
    for warning in thread_policy.warnings:
        console.print(f"[yellow]threads[/]: {warning}", highlight=False)

    # 1. The suite and its data, checked before anything slow happens.
    suite = load_suite(suite_path, variant_configs(), trust)
    check_suite_model(suite)  # a local model folder lies where the suite may read, before anything is written
    judge_setup = prepare_judge(suite)  # the judge: block's key variable, model folder and grades file
    # bf16 on a machine that would emulate it runs in fp32 (model/precision.py), said here and in the manifest.
    spec, precision_changes = fit_precision(suite.spec)
    if seeds is not None:
        spec = spec.model_copy(update={"seeds": check_seed_count(seeds, "--seeds")})  # the manifest says what ran
    for setting, (asked, used) in precision_changes.items():
        console.print(
            f"[yellow]precision[/]: {setting} {asked} → {used}: this machine has no native bf16 "
            "(set base_model.precision_fallback: false to keep it)"
        )
    task = task_from_spec(spec.task)
    t0 = time.perf_counter()
    with Measure() as memory:
        splits = load_suite_data(suite, task, warn=console.print)
    if spec.abstain is not None and "validation" not in splits:  # before anything slow: the threshold needs it
        raise BenchError(
            f"{suite.path}:{suite.line_of('abstain')}: abstain: chooses its threshold on the validation split, "
            "and this suite has none",
            hint="name task.data.validation, or carve one from train with task.data.validation_share (e.g. 0.1)",
        )
    stages["load_data"] = time.perf_counter() - t0
    peak_rss["load_data"] = memory.peak_rss_mb

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
        "threads": thread_policy.record(),
        "allocator": allocator,
        **cache_capacities(),  # onednn_primitive_cache, ideep_lru_cache
        "heap": {"mmap_threshold_bytes": MMAP_THRESHOLD_BYTES} if heap_small else None,
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
        with Measure() as memory, progress.task(f"load {spec.base_model.name}", total=None):
            base = load_base(
                spec.base_model.name, dtype=spec.base_model.dtype, trust_remote_code=spec.base_model.trust_remote_code
            )
            # Every variant key holds the weights' hash; computed here once, cached beside the store across runs.
            weights_fingerprint(base.source, cache_file=store.root / "fingerprints.json")
        stages["load_model"] = time.perf_counter() - t0
        peak_rss["load_model"] = memory.peak_rss_mb
        t0 = time.perf_counter()
        with Measure() as memory, inference_precision(spec.inference.bf16):
            base_probes = base_probe_scores(base, spec, progress, store, run_dir, warn=console.print)
        stages["base_probes"] = time.perf_counter() - t0
        peak_rss["base_probes"] = memory.peak_rss_mb

        # 4. Every variant, in its frozen environment; finished ones come from the store.
        env = VariantEnvironment.of_suite(spec, suite, task=task, splits=splits, base=base, progress=progress)
        settings = EvaluationSettings(
            env=env,
            inference=spec.inference,
            probes=spec.probes,
            base_probes=base_probes,
            compute_dtype=spec.base_model.dtype,
            price_per_hour=spec.cost.price_per_hour,
            abstain=spec.abstain,
        )
        # A variant trained with several seeds runs as members <name>-seed<k>, gathered again below.
        configs, seeded = plan(
            [c for c in spec.variants if not only or c.name in only], kinds, suite_seeds=spec.seeds, override=seeds
        )
        variants = [kinds[c.kind](c, env) for c in configs]
        manifest["seeds"]["variants"] = {v.name: env.seed_for(v.name) for v in variants}
        manifest["seeds"]["members"] = {group.name: [s["variant"] for s in group.seeds] for group in seeded}
        data_sha256 = {name: split.sha256 for name, split in splits.items()}

        keys = {v.name: variant_key(spec, data_sha256, v) for v in variants}

        def lock(variant: Variant):
            key = keys[variant.name]
            # Two runs sharing the store never write one entry at once; the second then reuses it.
            return store.lock(key, on_wait=lambda: console.print(f"{variant.name}: waiting for another run on {key}"))

        def reusable(variant: Variant) -> dict | None:
            key = keys[variant.name]
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
            return None

        def evaluate_here(variant: Variant, workdir: Path) -> dict:
            try:
                return evaluate_variant(variant, settings, workdir)
            except VariantSkipped as exc:
                return _not_run(variant, "skipped", str(exc))
            except BenchError:
                raise
            except Exception as exc:  # one broken variant must not lose the others
                console.print(f"[red]✗[/] {variant.name} failed: {exc}")
                record = _not_run(variant, "failed", f"{type(exc).__name__}: {exc}")
                record["traceback"] = traceback.format_exc()
                return record

        def save(variant: Variant, record: dict) -> dict:
            store.save(keys[variant.name], record)
            return {**store.finished(keys[variant.name]), "reused": False}

        jobs = VariantJobs(
            lock=lock,
            reusable=reusable,
            workdir=lambda variant: store.fresh(keys[variant.name]),
            evaluate=evaluate_here,
            not_run=_not_run,
            save=save,
        )
        if executor == "ray":  # each variant a task on a cluster; the store and run folder stay here
            from harness.run.ray_executor import RayExecutor, request_for

            runner = RayExecutor(
                request_for=request_for(suite, spec, precision_changes, data_sha256, settings),
                execution=spec.execution,
                progress=progress,
                say=console.print,
                address=address,
            )
        else:
            runner = LocalExecutor()

        records: list[dict] = []
        try:
            for record in runner.run(variants, jobs):
                records.append(record)
        except KeyboardInterrupt:
            manifest.update(status="interrupted", finished_variants=[r["name"] for r in records])
            write_manifest(run_dir, manifest)
            console.print(
                f"[yellow]interrupted[/]: finished variants kept in {store.root}: "
                f"{', '.join(r['name'] for r in records) or 'none'}"
            )
            raise

    # 5. The run folder: every variant's rows and record, gathered from the store, in the suite's order.
    order = [v.name for v in variants]
    records.sort(key=lambda record: order.index(record["name"]))
    for record in records:
        cost = record["cost"]
        # This run's own seconds: a reused variant cost nothing now (its record keeps what it cost then).
        stages[f"variant:{record['name']}"] = (
            0.0
            if record["reused"]
            else sum(cost.get(part, 0) for part in ("prepare_seconds", "infer_seconds", "probe_seconds"))
        )
        if not record["reused"]:  # a reused variant's memory was measured in the run that computed it
            peak_rss.update(variant_peak_rss(record))
        store.link_into(record["key"], run_dir / "variants" / record["name"])
    rows = {record["name"]: store.samples(record["key"]) for record in records}
    # Each seeded variant: the mean over its seeds, beside its members.
    records, rows = gather(
        seeded, records, rows, (spec.task.type, getattr(spec.task, "labels", None) or ()), env.seed_for
    )
    for group in seeded:
        aggregate = next(r for r in records if r["name"] == group.name)
        folder = inside(run_dir / "variants", group.name)  # its record and rows, beside its members' folders
        write_variant(folder, {k: v for k, v in aggregate.items() if k != "reused"}, rows[group.name])
    judged = judge_outputs(judge_setup, records, rows, env, store, console)  # model-graded scores, if asked
    write_samples(run_dir, [row for record in records for row in rows[record["name"]]])
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
        **({"judge": judged} if judged else {}),
    }
    write_results(run_dir, results)
    stages["total"] = time.perf_counter() - started
    manifest.update(status="complete", stages=stages, stage_peak_rss_mb=peak_rss)
    write_manifest(run_dir, manifest)
    failed = [r["name"] for r in records if r["status"] == "failed"]
    return RunResult(run_dir=run_dir, results=results, failed=failed, stages=stages)


def variant_peak_rss(record: dict) -> dict[str, float]:
    """``variant:<name>:<stage>`` -> peak RSS (MB) of the stages the variant's cost record measured."""
    cost = record.get("cost") or {}
    return {
        f"variant:{record['name']}:{stage}": cost[key]
        for stage, key in VARIANT_STAGES.items()
        if cost.get(key) is not None
    }


# A variant's stages and the cost record's keys for them (run/evaluate.py): prepare (training included), predict,
# the forgetting probes, and the checks that predict again (the merge check holds a second, merged model).
VARIANT_STAGES = {
    "prepare": "prepare_peak_rss_mb",
    "predict": "infer_peak_rss_mb",
    "probes": "probe_peak_rss_mb",
    "recheck": "recheck_peak_rss_mb",
}


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
