"""Evaluate one variant: prepare, predict, score, measure, then the checks that predict again.

Each stage is a function of what the one before produced, so the record a
variant leaves in the store can be read top to bottom here:

    prepare   train an adapter, build an index, choose demonstrations (the variant's own job)
    predict   every test item through ``harness.model.predictor``; forgetting probes while the weights are active
    score     one row per item (the task's ``score``), then the task's ``aggregate``
    measure   the cost record: time, memory, tokens, parameters, FLOPs and price
    recheck   the merge check and output variability, after the measured inference

With a ``judge:`` block, ``judge_outputs`` then grades every finished variant's rows
(harness/judge), once all have run: pairwise grading needs the reference variant's outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.prompts import prompt_hash
from harness.model.generate import computed_prompt_tokens, inference_precision
from harness.model.parking import parked
from harness.model.predictor import Predictor
from harness.run.cost import Measure
from harness.run.forgetting import probe_variant
from harness.suite.schema import AbstainSpec, InferenceSpec, ProbeSpec
from harness.variants.base import Prepared, Variant
from harness.variants.environment import VariantEnvironment


@dataclass(frozen=True)
class EvaluationSettings:
    """What evaluating any variant needs beyond its environment: the suite's inference, probe and cost settings.

    ``inference`` is the suite's; each variant answers with ``variant.inference_spec()`` (its overrides on top),
    and only the probes keep the suite's settings as they are."""

    env: VariantEnvironment
    inference: InferenceSpec
    probes: ProbeSpec
    base_probes: dict | None  # the base model's probe scores, when the suite asks for probes
    compute_dtype: str  # the base model's dtype, as the suite names it
    price_per_hour: float | None
    abstain: AbstainSpec | None = None  # the suite's abstain: section: validation items are predicted too

    def predictor(self, model, inference: InferenceSpec | None = None) -> Predictor:
        """A predictor for ``model`` with ``inference`` (a variant's own), or the suite's settings."""
        return Predictor.for_inference(
            model,
            self.env.base.tokenizer,
            inference or self.inference,
            single_line_answers=self.env.task.single_line_answers,
        )


@dataclass
class Predictions:
    conversations: list[list[dict]]
    generations: list[Any]  # Generation (generate) or Ranking (rank): text, tokens, seconds
    cost: Measure
    probes: dict | None = None
    probe_cost: Measure | None = None
    validation: list[Any] | None = None  # answers to the validation items, only when the suite abstains


@dataclass
class Prepare:
    prepared: Prepared
    cost: Measure = field(repr=False)


def evaluate_variant(variant: Variant, settings: EvaluationSettings, workdir: Path) -> dict:
    """Prepare (train), predict on every test item, score, measure. Returns the variant's result record.

    A variant that works on a copy of the base of its own (QLoRA) does so with the shared base parked
    (model/parking.py): its stages' memory is then its own copy's, not both. Whatever the variant loaded
    for itself is released afterwards: the variants after it do not carry it."""
    try:
        if variant.uses_shared_base:
            return _evaluate(variant, settings, workdir)
        with parked(settings.env.base):
            return _evaluate(variant, settings, workdir)
    finally:
        variant.release()


def _evaluate(variant: Variant, settings: EvaluationSettings, workdir: Path) -> dict:
    env = settings.env
    prepared = prepare(variant, workdir)
    items = env.test_items()
    predicted = predict(variant, settings, [variant.build_messages(item.prompt_messages()) for item in items], workdir)
    samples = score(variant, env, items, predicted)
    metrics = env.task.aggregate(samples, seed=env.seed_for(variant.name))
    if "calibration" in metrics:
        metrics["calibration"]["confidence_of"] = confidence_source(variant)
    if settings.abstain is not None:
        metrics["abstention"] = abstention(env, predicted.validation, samples, settings.abstain.target_accuracy)
    cost = measure(variant, settings, prepared, predicted, n_items=len(items))
    with Measure() as recheck_cost:  # after the cost record: its seconds are not the variant's, its memory is
        merge_check, variability = recheck(variant, settings, predicted, [item.id for item in items])
    if merge_check is not None or variability is not None:
        cost["recheck_peak_rss_mb"] = recheck_cost.peak_rss_mb
    return {
        "name": variant.name,
        "kind": variant.kind,
        "status": "ok",
        "reason": None,
        "config": variant.config.model_dump(mode="json"),
        "prompt": prompt_record(variant),
        "inference": inference_record(variant),
        "training_config": variant.training_spec().model_dump(mode="json") if variant.trains else None,
        "seed": env.seed_for(variant.name),
        "n_items": len(items),
        "metrics": metrics,
        "cost": cost,
        "training": prepared.prepared.training,
        "probes": predicted.probes,
        "merge_check": merge_check,
        "variability": variability,
        "samples": samples,
    }


def prompt_record(variant: Variant) -> dict | None:
    """What the variant's record says of its system prompt: where it came from and its text (none: classical)."""
    if variant.answers_itself:
        return None
    source, name = variant.system_prompt_source()
    return {"source": source, "name": name, "system_prompt": variant.prompt_template().system_prompt}


def inference_record(variant: Variant) -> dict | None:
    """The inference settings the variant answered with, the suite's and its own overrides merged (none: classical)."""
    return None if variant.answers_itself else variant.inference_spec().model_dump(mode="json")


def prepare(variant: Variant, workdir: Path) -> Prepare:
    with Measure() as cost:
        prepared = variant.prepare(workdir)
    return Prepare(prepared=prepared, cost=cost)


def predict(
    variant: Variant, settings: EvaluationSettings, conversations: list[list[dict]], workdir: Path
) -> Predictions:
    env, inference = settings.env, variant.inference_spec()
    if variant.answers_itself:  # a classical classifier reads the items' text, not the prompts
        items = env.test_items()
        with Measure() as infer_cost, env.progress.task(f"predict {variant.name}", total=len(items)) as advance:
            generations = variant.answer(items)
            advance(advance=len(items))
        validation = variant.answer(env.split("validation").items) if settings.abstain is not None else None
        return Predictions(conversations=conversations, generations=generations, cost=infer_cost, validation=validation)
    with variant.activated() as model, inference_precision(inference.bf16):
        predictor = settings.predictor(model, inference)
        with Measure() as infer_cost, env.progress.task(f"predict {variant.name}", total=len(conversations)) as advance:
            generations = predictor.answer(
                conversations, env.task, mode=inference.mode, on_batch=lambda n: advance(advance=n)
            )
        predicted = Predictions(conversations=conversations, generations=generations, cost=infer_cost)
        if settings.abstain is not None:  # after the measured inference: not part of the variant's cost
            validation = [variant.build_messages(i.prompt_messages()) for i in env.split("validation").items]
            predicted.validation = predictor.answer(validation, env.task, mode=inference.mode)
        # Forgetting is measured on weights that changed; prompt-only variants are the base itself.
        if settings.base_probes and variant.trains:
            with Measure() as probe_cost:
                predicted.probes = probe_variant(
                    env,
                    settings.probes,
                    settings.base_probes,
                    variant.name,
                    model,
                    workdir,
                    seed=env.seed_for(variant.name),
                )
            predicted.probe_cost = probe_cost
    return predicted


def score(variant: Variant, env: VariantEnvironment, items, predicted: Predictions) -> list[dict]:
    """One row per test item: what was asked, what came back, and the task's reading of it."""
    return [
        {
            "variant": variant.name,
            "item_id": item.id,
            "item_hash": item.content_hash,
            "prompt_hash": prompt_hash(conversation),
            "raw_output": gen.text,
            **env.task.score(gen.text, item),  # parsed, gold, correct, format_ok and the task's own fields
            "prompt_tokens": gen.prompt_tokens,
            "output_tokens": gen.output_tokens,
            "latency_s": round(gen.seconds, 4),
            **confidence_field(gen),
        }
        for item, conversation, gen in zip(items, predicted.conversations, predicted.generations)
    ]


def judge_outputs(setup, records: list[dict], rows: dict[str, list[dict]], env: VariantEnvironment, store, console):
    """Score: the suite's judge grades every finished variant's rows in place (harness/judge; docs/judge.md).

    After every variant, not inside each: pairwise needs the reference variant's outputs, and a variant
    reused from the store is graded the same way (the judge's own cache makes that free on a rerun).
    Returns the run's judge summary (results.json ``judge``), or None without a judge.
    """
    if setup is None:
        return None
    from harness.core.progress import Progress
    from harness.judge import judge_variants
    from harness.tasks.generation import score_judged

    graded = {r["name"]: rows[r["name"]] for r in records if r["status"] == "ok" and rows.get(r["name"])}
    items = {item.id: item for item in env.test_items()}
    reference = setup.spec.reference
    if setup.spec.mode == "pairwise" and reference not in graded:
        console.print(
            f"[yellow]judge[/]: the pairwise reference {reference} did not run or failed here, so no variant "
            "is compared (run it too, or drop --only)"
        )
    with Progress(console) as progress:
        summary = judge_variants(
            setup, graded, items, cache_root=store.root / "judge", secret=store.secret, progress=progress
        )
    for record in records:
        if record["name"] in graded and record.get("metrics") is not None:
            # A copy: the record in the store stays as the variant computed it, judge or not.
            record["metrics"] = {**record["metrics"], **score_judged(graded[record["name"]])}
    return summary


def confidence_field(gen) -> dict:
    """The answer's confidence (model/rank.py, model/generate.py, a classifier's probability), where there is one."""
    confidence = getattr(gen, "confidence", None)
    # Not rounded: a generated answer's probability can be 1e-9, and ranking items by it must still work.
    return {} if confidence is None else {"confidence": float(confidence)}


def confidence_source(variant: Variant) -> str:
    """What a variant's confidence is, in words, for the record and the report."""
    if variant.answers_itself:
        return "the classifier's probability of its label"
    if variant.inference_spec().mode == "rank":
        return "softmax over the labels' log-likelihoods"
    return "probability of the generated answer tokens"


def abstention(env: VariantEnvironment, validation: list[Any] | None, test_rows: list[dict], target: float) -> dict:
    """A confidence threshold chosen on the validation answers for ``target`` accuracy, applied to the test rows."""
    from harness.stats.calibration import abstention as choose_and_apply

    items = env.split("validation").items
    val_rows = [
        {**env.task.score(gen.text, item), **confidence_field(gen)} for item, gen in zip(items, validation or [])
    ]
    rows = val_rows + test_rows
    if not val_rows or any(r.get("confidence") is None for r in rows):
        return {"target_accuracy": target, "threshold": None, "reason": "no confidence"}
    return choose_and_apply(
        [r["confidence"] for r in val_rows],
        [bool(r["correct"]) for r in val_rows],
        [r["confidence"] for r in test_rows],
        [bool(r["correct"]) for r in test_rows],
        target=target,
    )


def measure(
    variant: Variant, settings: EvaluationSettings, prepare: Prepare, predicted: Predictions, *, n_items: int
) -> dict:
    """The variant's cost record (docs/records.md): what preparing and predicting took."""
    from harness.run.flops import cost_estimates, machine_peak

    env, inference = settings.env, variant.inference_spec()
    prepared, prepare_cost, infer_cost = prepare.prepared, prepare.cost, predicted.cost
    generations = predicted.generations
    n_prompt = sum(g.prompt_tokens for g in generations)
    n_output = sum(g.output_tokens for g in generations)
    cost = {
        "train_seconds": prepared.training["seconds"] if prepared.training else 0.0,
        "prepare_seconds": prepare_cost.seconds,
        "infer_seconds": infer_cost.seconds,
        "probe_seconds": predicted.probe_cost.seconds if predicted.probes is not None else 0.0,
        "peak_rss_mb": max(prepare_cost.peak_rss_mb, infer_cost.peak_rss_mb),
        # Each stage's own peak, for the manifest's per-stage memory (run/recipe.py): the process's RSS, so a
        # stage's figure includes what earlier stages still hold (the base model, above all).
        "prepare_peak_rss_mb": prepare_cost.peak_rss_mb,
        "infer_peak_rss_mb": infer_cost.peak_rss_mb,
        "probe_peak_rss_mb": predicted.probe_cost.peak_rss_mb if predicted.probe_cost is not None else None,
        "peak_cuda_mb": max(filter(None, [prepare_cost.peak_cuda_mb, infer_cost.peak_cuda_mb]), default=None),
        "prompt_tokens_mean": n_prompt / max(n_items, 1),
        "computed_prompt_tokens_mean": computed_prompt_tokens(generations) / max(n_items, 1),
        "output_tokens_mean": n_output / max(n_items, 1),
        "infer_tokens_per_second": (n_prompt + n_output) / infer_cost.seconds if infer_cost.seconds else None,
        "trainable_params": 0,
        "total_params": sum(p.numel() for p in env.base.model.parameters()),
        "trainable_share": 0.0,
        "adapter_bytes": 0,
        "weights_mb": env.base.model.get_memory_footprint() / 2**20,  # QLoRA and full report their own model's
        "compute_dtype": settings.compute_dtype,
        # rank and classical: answers are well-formed by construction, format not measured
        "inference_mode": "classical" if variant.answers_itself else inference.mode,
        "trained_tokens": 0,
        "train_tokens_per_second": None,
    }
    cost.update(prepared.cost)
    if prepared.training:
        cost["trained_tokens"] = prepared.training["trained_tokens"]
        cost["train_tokens_per_second"] = prepared.training["trained_tokens"] / max(prepared.training["seconds"], 1e-9)
        cost["train_computed_tokens"] = prepared.training.get("computed_tokens")
    train_bf16 = variant.trains and variant.training_spec().bf16
    cost.update(
        cost_estimates(
            cost,
            n_items=n_items,
            peak=machine_peak(),
            train_bf16=train_bf16,
            infer_bf16=inference.bf16,
            price_per_hour=settings.price_per_hour,
        )
    )
    return cost


def recheck(
    variant: Variant, settings: EvaluationSettings, predicted: Predictions, item_ids: list[str]
) -> tuple[dict | None, dict | None]:
    """Checks that predict again; they run after the measured inference, so they do not count in its cost."""
    from harness.run.merge_check import check_merge
    from harness.run.variability import measure_variability

    inference, env = variant.inference_spec(), settings.env
    with inference_precision(inference.bf16):
        merge_check = (
            check_merge(variant, settings, predicted.conversations, [g.text for g in predicted.generations], item_ids)
            if inference.merge_check
            else None
        )
        variability = (
            measure_variability(
                variant,
                settings,
                predicted.conversations,
                samples=inference.variability.samples,
                temperature=inference.variability.temperature,
                seed=env.seed_for(variant.name),
            )
            if inference.variability
            else None
        )
    return merge_check, variability
