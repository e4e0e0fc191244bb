"""`bench run`: suite -> data -> base model -> every variant -> records.

The flow is one way. Each variant is evaluated by ``evaluate_variant`` into its
own folder in the variant store, keyed by content (resolved config, data
fingerprints, base model, code version), so a rerun finds finished variants and
does not redo them. The run folder then gathers what its variants produced.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from harness import __version__
from harness.run.cost import Measure
from harness.data.splits import Split, load_suite_data
from harness.core.errors import BenchError
from harness.run.executor import LocalExecutor
from harness.run.forgetting import base_probe_scores, probe_variant, probes_table
from harness.model.generate import computed_prompt_tokens, generate, inference_precision
from harness.model.loading import BaseModel, load_base
from harness.core.progress import Progress
from harness.data.prompts import PromptTemplate, prompt_hash
from harness.model.rank import rank_choices
from harness.report import write_report
from harness.core.files import read_json, write_json, write_jsonl
from harness.records.manifest import RECORDS_SCHEMA_VERSION, git_commit, machine, package_versions
from harness.suite import load_suite
from harness.suite.load import LoadedSuite
from harness.tasks import Task, task_from_spec
from harness.training.sft import TrainingRecord, prompt_completion_rows, train_sft
from harness.variants.base import Variant, variant_kinds


class VariantSkipped(Exception):
    """Raised by a variant that cannot run on this platform; the run goes on."""


@dataclass
class RunContext:
    """What every variant may use: the suite, its data, the shared base model."""

    suite: LoadedSuite
    task: Task
    splits: dict[str, Split]
    base: BaseModel
    prompt_template: PromptTemplate
    progress: Progress
    base_probes: dict | None = None  # the base model's probe scores, when the suite asks for probes

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise BenchError(f"this variant needs a '{name}' split", hint=f"add task.data.{name} to {self.suite.path}")
        return self.splits[name]

    def test_items(self):
        items = self.splits["test"].items
        limit = self.suite.spec.task.test_limit
        return items[:limit] if limit else items

    def seed_for(self, name: str) -> int:
        """One suite seed; each variant derives its own, stable under reordering."""
        digest = hashlib.sha256(f"{self.suite.spec.seed}:{name}".encode()).hexdigest()
        return int(digest[:8], 16) % 2**31

    def train(self, variant: Variant, model, workdir: Path, *, seed: int) -> TrainingRecord:
        spec = variant.config.resolved_training(self.suite.spec.training)
        train_items = self.split("train").items
        rows = prompt_completion_rows([variant.build_messages(i.prompt_messages()) for i in train_items],
                                      [i.answer for i in train_items])
        eval_rows = None
        if "validation" in self.splits and spec.eval_every:
            val = self.splits["validation"].items
            eval_rows = prompt_completion_rows([variant.build_messages(i.prompt_messages()) for i in val], [i.answer for i in val])
        with self.progress.task(f"train {variant.name}", total=None) as advance:
            return train_sft(model, self.base.tokenizer, rows, spec=spec, seed=seed, output_dir=workdir / "trainer",
                             eval_rows=eval_rows, on_step=lambda step, total: advance(completed=step, total=total))


@dataclass
class RunResult:
    run_dir: Path
    results: dict
    failed: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # wall seconds per stage, as in manifest.json


def variant_key(ctx: RunContext, variant: Variant) -> str:
    spec = ctx.suite.spec
    payload = {
        "variant": variant.config.model_dump(mode="json"),
        "training": variant.config.resolved_training(spec.training).model_dump(mode="json") if variant.trains else None,
        "task": spec.task.model_dump(mode="json"),
        "data": {name: split.sha256 for name, split in sorted(ctx.splits.items())},
        "base_model": spec.base_model.model_dump(mode="json"),
        "inference": spec.inference.model_dump(mode="json"),
        "probes": spec.probes.model_dump(mode="json") if variant.trains else None,
        "seed": spec.seed,
        "code": __version__,
    }
    retrieval = variant.retrieval
    if retrieval is not None and variant.retrieval_spec().corpus != "train":
        # The config names a corpus file or folder; its contents decide what the variant retrieves.
        payload["corpus"] = retrieval.source_corpus.fingerprint
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def evaluate_variant(variant: Variant, ctx: RunContext, workdir: Path) -> dict:
    """Prepare (train), predict on every test item, score. Returns the variant's result record."""
    with Measure() as prepare_cost:
        prepared = variant.prepare(workdir)
    items = ctx.test_items()
    conversations = [variant.build_messages(item.prompt_messages()) for item in items]
    inference = ctx.suite.spec.inference
    probes = None
    with variant.activated() as model, inference_precision(inference.bf16):
        with Measure() as infer_cost, ctx.progress.task(f"predict {variant.name}", total=len(items)) as advance:
            if inference.mode == "rank":  # classification only (checked on load): the likeliest well-formed answer
                choices = [ctx.task.answer_format.replace("{label}", label) for label in ctx.task.labels]
                generations = rank_choices(model, ctx.base.tokenizer, conversations, choices, batch_size=inference.batch_size,
                                           on_batch=lambda n: advance(advance=n))
            else:
                generations = generate(model, ctx.base.tokenizer, conversations, batch_size=inference.batch_size,
                                       max_new_tokens=inference.max_new_tokens, on_batch=lambda n: advance(advance=n))
        # Forgetting is measured on weights that changed; prompt-only variants are the base itself.
        if ctx.base_probes and variant.trains:
            with Measure() as probe_cost:
                probes = probe_variant(ctx, variant.name, model, workdir, seed=ctx.seed_for(variant.name))
    samples = [{
        "variant": variant.name, "item_id": item.id, "item_hash": item.content_hash,
        "prompt_hash": prompt_hash(conversation), "raw_output": gen.text,
        **ctx.task.score(gen.text, item),  # parsed, gold, correct, format_ok and the task's own fields
        "prompt_tokens": gen.prompt_tokens, "output_tokens": gen.output_tokens, "latency_s": round(gen.seconds, 4),
    } for item, conversation, gen in zip(items, conversations, generations)]
    metrics = ctx.task.aggregate(samples, seed=ctx.seed_for(variant.name))
    n_prompt = sum(g.prompt_tokens for g in generations)
    n_output = sum(g.output_tokens for g in generations)
    cost = {
        "train_seconds": prepared.training["seconds"] if prepared.training else 0.0,
        "prepare_seconds": prepare_cost.seconds,
        "infer_seconds": infer_cost.seconds,
        "probe_seconds": probe_cost.seconds if probes is not None else 0.0,
        "peak_rss_mb": max(prepare_cost.peak_rss_mb, infer_cost.peak_rss_mb),
        "peak_cuda_mb": max(filter(None, [prepare_cost.peak_cuda_mb, infer_cost.peak_cuda_mb]), default=None),
        "prompt_tokens_mean": n_prompt / max(len(items), 1),
        "computed_prompt_tokens_mean": computed_prompt_tokens(generations) / max(len(items), 1),
        "output_tokens_mean": n_output / max(len(items), 1),
        "infer_tokens_per_second": (n_prompt + n_output) / infer_cost.seconds if infer_cost.seconds else None,
        "trainable_params": 0, "total_params": sum(p.numel() for p in ctx.base.model.parameters()),
        "trainable_share": 0.0, "adapter_bytes": 0,
        "weights_mb": ctx.base.model.get_memory_footprint() / 2**20,  # QLoRA and full report their own model's
        "compute_dtype": ctx.suite.spec.base_model.dtype,
        "inference_mode": inference.mode,  # rank: answers are well-formed by construction, format not measured
        "trained_tokens": 0, "train_tokens_per_second": None,
    }
    cost.update(prepared.cost)
    if prepared.training:
        cost["trained_tokens"] = prepared.training["trained_tokens"]
        cost["train_tokens_per_second"] = prepared.training["trained_tokens"] / max(prepared.training["seconds"], 1e-9)
        cost["train_computed_tokens"] = prepared.training.get("computed_tokens")
    from harness.run.flops import cost_estimates, machine_peak
    from harness.run.merge_check import check_merge
    from harness.run.variability import measure_variability

    train_bf16 = variant.trains and variant.config.resolved_training(ctx.suite.spec.training).bf16
    cost.update(cost_estimates(cost, n_items=len(items), peak=machine_peak(), train_bf16=train_bf16,
                               infer_bf16=inference.bf16, price_per_hour=ctx.suite.spec.cost.price_per_hour))
    # Checks that predict again; they run after the measured inference, so they do not count in its cost.
    with inference_precision(inference.bf16):
        merge_check = check_merge(variant, ctx, conversations, [g.text for g in generations],
                                  [item.id for item in items]) if inference.merge_check else None
        variability = measure_variability(
            variant, ctx, conversations, samples=inference.variability.samples,
            temperature=inference.variability.temperature, seed=ctx.seed_for(variant.name),
        ) if inference.variability else None
    return {
        "name": variant.name, "kind": variant.kind, "status": "ok", "reason": None,
        "config": variant.config.model_dump(mode="json"),
        "training_config": variant.config.resolved_training(ctx.suite.spec.training).model_dump(mode="json") if variant.trains else None,
        "seed": ctx.seed_for(variant.name), "n_items": len(items), "metrics": metrics, "cost": cost,
        "training": prepared.training, "probes": probes, "merge_check": merge_check, "variability": variability, "samples": samples,
    }


class VariantStore:
    """Finished variants by content key. An entry is finished once its result.json exists."""

    def __init__(self, root: Path):
        self.root = root

    def entry(self, key: str) -> Path:
        return self.root / key

    def finished(self, key: str) -> dict | None:
        result = self.entry(key) / "result.json"
        return read_json(result) if result.exists() else None

    def fresh(self, key: str) -> Path:
        """A work folder for ``key``. A killed attempt's leftovers are removed, except
        training checkpoints, from which training resumes."""
        folder = self.entry(key)
        folder.mkdir(parents=True, exist_ok=True)
        for child in folder.iterdir():
            if child.name == "trainer":
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        return folder

    def save(self, key: str, record: dict) -> None:
        folder = self.entry(key)
        write_jsonl(folder / "samples.jsonl", record.pop("samples"))
        write_json(folder / "result.json", {**record, "key": key})  # last: marks the entry finished
        shutil.rmtree(folder / "trainer", ignore_errors=True)  # checkpoints are only for resuming


def default_out_dir(suite_name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("reports") / suite_name / stamp


def run_suite(suite_path: str | Path, out: str | Path | None = None, *, console: Console | None = None,
              only: list[str] | None = None) -> RunResult:
    console = console or Console(stderr=True)
    started = time.perf_counter()
    stages: dict[str, float] = {}

    suite = load_suite(suite_path)
    spec = suite.spec
    task = task_from_spec(spec.task)
    t0 = time.perf_counter()
    splits = load_suite_data(suite, task, warn=console.print)
    stages["load_data"] = time.perf_counter() - t0

    run_dir = Path(out) if out else default_out_dir(spec.name)
    store = VariantStore(run_dir.parent / ".bench-store")
    manifest = {
        "schema_version": RECORDS_SCHEMA_VERSION, "bench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "suite": {"name": spec.name, "path": str(suite.path), "sha256": suite.sha256},
        "resolved_config": spec.model_dump(mode="json"),
        "data": {name: split.summary() for name, split in splits.items()},
        "seeds": {"suite": spec.seed},
        "packages": package_versions(), "git_commit": git_commit(suite.folder), "machine": machine(),
        "status": "running",
    }
    write_json(run_dir / "manifest.json", manifest)

    kinds = variant_kinds()
    with Progress(console) as progress:
        t0 = time.perf_counter()
        with progress.task(f"load {spec.base_model.name}", total=None):
            base = load_base(spec.base_model.name, dtype=spec.base_model.dtype,
                             trust_remote_code=spec.base_model.trust_remote_code)
        stages["load_model"] = time.perf_counter() - t0
        ctx = RunContext(suite=suite, task=task, splits=splits, base=base,
                         prompt_template=PromptTemplate(spec.task.system_prompt), progress=progress)
        t0 = time.perf_counter()
        with inference_precision(spec.inference.bf16):
            ctx.base_probes = base_probe_scores(ctx, store.root, run_dir)
        stages["base_probes"] = time.perf_counter() - t0
        chosen = [c for c in spec.variants if not only or c.name in only]
        variants = [kinds[c.kind](c, ctx) for c in chosen]
        manifest["seeds"]["variants"] = {v.name: ctx.seed_for(v.name) for v in variants}

        def job(variant: Variant) -> dict:
            key = variant_key(ctx, variant)
            done = store.finished(key)
            if done:
                console.print(f"[green]✓[/] {variant.name}: finished earlier (key {key}), reused")
                return {**done, "reused": True}
            workdir = store.fresh(key)
            try:
                record = evaluate_variant(variant, ctx, workdir)
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
            write_json(run_dir / "manifest.json", manifest)
            console.print(f"[yellow]interrupted[/]: finished variants kept in {store.root}: "
                          f"{', '.join(r['name'] for r in records) or 'none'}")
            raise

    for record in records:
        cost = record["cost"]
        # This run's own seconds: a reused variant cost nothing now (its record keeps what it cost then).
        stages[f"variant:{record['name']}"] = 0.0 if record["reused"] else sum(
            cost.get(part, 0) for part in ("prepare_seconds", "infer_seconds", "probe_seconds"))
        _link_variant(store.entry(record["key"]), run_dir / "variants" / record["name"])
    samples = [row for record in records for row in _read_samples(store.entry(record["key"]))]
    write_jsonl(run_dir / "samples.jsonl", samples)
    results = {
        "schema_version": RECORDS_SCHEMA_VERSION,
        "suite": manifest["suite"],
        "task": {"type": spec.task.type, "labels": getattr(spec.task, "labels", None), "n_test_items": len(ctx.test_items())},
        "variants": {r["name"]: r for r in records},
        "probes": probes_table(ctx.base_probes, records),
    }
    write_json(run_dir / "results.json", results)
    stages["total"] = time.perf_counter() - started
    manifest.update(status="complete", stages=stages)
    write_json(run_dir / "manifest.json", manifest)  # the results are complete whatever the report does
    t0 = time.perf_counter()
    report = write_report(run_dir)  # the last stage reads only what the run wrote
    stages["report"] = time.perf_counter() - t0
    stages["total"] = time.perf_counter() - started
    write_json(run_dir / "manifest.json", manifest)
    console.print(f"report: {report}")
    failed = [r["name"] for r in records if r["status"] == "failed"]
    return RunResult(run_dir=run_dir, results=results, failed=failed, stages=stages)


def _not_run(variant: Variant, status: str, reason: str) -> dict:
    return {"name": variant.name, "kind": variant.kind, "status": status, "reason": reason,
            "config": variant.config.model_dump(mode="json"), "metrics": None, "cost": {}, "training": None, "samples": []}


def _read_samples(folder: Path) -> list[dict]:
    from harness.core.files import read_jsonl

    path = folder / "samples.jsonl"
    return read_jsonl(path) if path.exists() else []


def _link_variant(source: Path, target: Path) -> None:
    """Give the run folder its own view of a stored variant: hard links, a copy where they fail."""
    if target.exists():
        shutil.rmtree(target)

    def link(src, dst):
        try:
            import os

            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link, ignore=shutil.ignore_patterns("trainer"))
