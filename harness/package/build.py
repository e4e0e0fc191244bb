"""`bench package`: turn one trained variant of a run into a shareable package.

A package is a folder that peft and the Hugging Face Hub read as it is:

    adapter_config.json, adapter_model.safetensors   peft's standard layout, at the root,
                                                      so ``PeftModel.from_pretrained(base, DIR)`` works
    README.md                                         the model card: Hub front matter + what we measured
    bench_package.json                                the same facts, machine-readable

With ``merged=True`` the adapter is folded into the base weights and the folder
holds a plain transformers model (config, safetensors, tokenizer) instead.

Everything in the card comes from the run folder (manifest, results, samples);
nothing is re-measured here. The folder is built under a temporary name beside
``out`` and renamed into place, so a failed packaging never leaves half a package.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from harness import __version__
from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl, write_json
from harness.tasks.classification import INVALID

PACKAGE_SCHEMA_VERSION = 2  # 2: prompt and evaluation in the task type's terms (extraction, generation)
METADATA_FILE = "bench_package.json"
CARD_TEMPLATE = Path(__file__).with_name("package_card.md.j2")
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")

# Hub ids of bench's model aliases, so the card's ``base_model`` links to the
# model page. An alias missing here is written as given.
HUB_IDS = {"smollm2-135m-instruct": "HuggingFaceTB/SmolLM2-135M-Instruct"}


def package_variant(run_dir: str | Path, variant: str, out: str | Path, *, merged: bool = False,
                    force: bool = False) -> Path:
    """Write the package for ``variant`` of the run in ``run_dir`` to ``out``; returns ``out``."""
    run_dir, out = Path(run_dir), Path(out)
    manifest, results, samples = _read_run(run_dir)
    record = results["variants"].get(variant)
    if record is None:
        raise BenchError(f"no variant '{variant}' in {run_dir / 'results.json'}",
                         hint=f"variants in this run: {', '.join(results['variants'])}")
    if record["status"] != "ok":
        raise BenchError(f"variant '{variant}' did not finish ({record['status']}: {record.get('reason')})",
                         hint="only a variant with results can be packaged; rerun it with bench run --only")
    adapter_dir = find_adapter(run_dir / "variants" / variant, record["kind"])
    if out.exists() and any(out.iterdir()) and not force:
        raise BenchError(f"{out} already exists and is not empty", hint="choose another --out, or pass --force to replace it")

    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        stage.chmod(0o755)  # mkdtemp makes it private; a package is meant to be shared
        base = manifest["resolved_config"]["base_model"]
        if merged:
            _save_merged(adapter_dir, base, stage)
        else:
            _copy_adapter(adapter_dir, stage, base_reference(base["name"]))
        metadata = build_metadata(manifest, results, record, [s for s in samples if s["variant"] == variant],
                                  run_dir=run_dir, merged=merged)
        metadata["files"] = {p.name: _sha256(p) for p in sorted(stage.iterdir()) if p.is_file()}
        (stage / "README.md").write_text(render_card(metadata), encoding="utf-8")
        write_json(stage / METADATA_FILE, metadata)
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out


def find_adapter(variant_dir: Path, kind: str) -> Path:
    """The folder holding the variant's adapter_config.json (peft may nest it under the adapter's name)."""
    configs = sorted((variant_dir / "adapter").rglob("adapter_config.json")) if (variant_dir / "adapter").is_dir() else []
    if not configs:
        raise BenchError(f"variant of kind '{kind}' has no trained adapter in {variant_dir / 'adapter'}",
                         hint="only variants that train a peft adapter (lora, qlora, ...) can be packaged")
    if len(configs) > 1:
        raise BenchError(f"{variant_dir / 'adapter'} holds {len(configs)} adapters; expected one",
                         hint="found: " + ", ".join(str(c.parent) for c in configs))
    return configs[0].parent


def base_reference(name: str) -> str:
    """How the card names the base model: its Hub id when we know it, else the name the suite used."""
    return HUB_IDS.get(name, name)


def _read_run(run_dir: Path) -> tuple[dict, dict, list[dict]]:
    try:
        manifest = read_json(run_dir / "manifest.json")
        results = read_json(run_dir / "results.json")
        samples = read_jsonl(run_dir / "samples.jsonl")
    except FileNotFoundError as exc:
        raise BenchError(f"{run_dir} is not a finished bench run folder: {Path(exc.filename).name} is missing",
                         hint="pass the folder `bench run` printed (it holds manifest.json and results.json)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchError(f"cannot read the run folder {run_dir}: {exc}") from None
    # An interrupted run still holds whole records of the variants it finished; a running one may change under us.
    if manifest.get("status") not in ("complete", "interrupted"):
        raise BenchError(f"the run in {run_dir} has not finished (status {manifest.get('status')!r})",
                         hint="wait for it, or rerun the suite with the same --out; finished variants are reused")
    return manifest, results, samples


def _copy_adapter(adapter_dir: Path, stage: Path, base_ref: str) -> None:
    for name in ADAPTER_FILES:
        if not (adapter_dir / name).exists():
            raise BenchError(f"{adapter_dir} lacks {name}", hint="the run's adapter folder is incomplete; rerun the variant")
    shutil.copy2(adapter_dir / "adapter_model.safetensors", stage / "adapter_model.safetensors")
    config = read_json(adapter_dir / "adapter_config.json")
    # The run recorded the folder it loaded the base from (often a local cache
    # path); the package names the base the way the card does.
    config["base_model_name_or_path"] = base_ref
    write_json(stage / "adapter_config.json", config)


def _save_merged(adapter_dir: Path, base: dict, stage: Path) -> None:
    from peft import PeftModel

    from harness.model.loading import load_base

    loaded = load_base(base["name"], dtype=base.get("dtype", "float32"), trust_remote_code=base.get("trust_remote_code", False),
                       device="cpu")
    merged = PeftModel.from_pretrained(loaded.model, adapter_dir).merge_and_unload()
    merged.save_pretrained(stage, safe_serialization=True)
    loaded.tokenizer.save_pretrained(stage)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- metadata
# Per task type, what results.json holds for a variant beside the metrics of its report columns.
BREAKDOWNS = {"classification": ("invalid_rate", "per_class", "confusion"), "extraction": ("per_field",),
              "generation": ("per_constraint", "words_mean")}


def build_metadata(manifest: dict, results: dict, record: dict, samples: list[dict], *, run_dir: Path,
                   merged: bool) -> dict:
    config = manifest["resolved_config"]
    task = config["task"]
    measures = task_measures(task["type"])
    data = manifest["data"]
    fingerprint = hashlib.sha256("".join(f"{k}:{v['sha256']}" for k, v in sorted(data.items())).encode()).hexdigest()
    hyperparameters = {k: v for k, v in record["config"].items() if k not in ("name", "kind", "training")}
    labelled = measures.type == "classification"  # the other task types' splits have no label counts
    return {
        "schema_version": PACKAGE_SCHEMA_VERSION,
        "format": "merged" if merged else "peft-adapter",
        "name": f"{results['suite']['name']}-{record['name']}",
        "variant": {"name": record["name"], "kind": record["kind"]},
        "base_model": {"name": config["base_model"]["name"], "reference": base_reference(config["base_model"]["name"]),
                       "dtype": config["base_model"]["dtype"]},
        "dataset": {
            "name": results["suite"]["name"],
            "version": fingerprint[:12],  # changes whenever any split's bytes change
            "fingerprint": fingerprint,
            "splits": {name: {"file": Path(split["path"]).name, "sha256": split["sha256"], "items": split["items"],
                              **({"labels": split["labels"]} if labelled else {})} for name, split in data.items()},
        },
        "prompt": {"system_prompt": task["system_prompt"], "task_type": task["type"], **answer_spec(task),
                   "decoding": "greedy", "max_new_tokens": config["inference"]["max_new_tokens"],
                   "batch_size": config["inference"]["batch_size"]},
        "hyperparameters": hyperparameters,
        "training": {**(record.get("training_config") or {}), "seed": record.get("seed"),
                     "steps": (record.get("training") or {}).get("steps"),
                     "final_loss": _last((record.get("training") or {}).get("loss_curve"), "loss"),
                     "final_eval_loss": _last((record.get("training") or {}).get("eval_curve"), "eval_loss")},
        "evaluation": {"split": "test", "n_items": record["n_items"],
                       "metrics": {m.key: record["metrics"][m.key] for m in measures.columns if m.key in record["metrics"]},
                       "metric_names": {m.key: m.label for m in measures.columns},
                       **{key: record["metrics"].get(key) for key in BREAKDOWNS[measures.type]},
                       "run_columns": [measures.headline.key, measures.second.key], "run_variants": _run_table(results)},
        "forgetting": forgetting(results, record["name"]),
        "cost": {**record["cost"], "machine": manifest.get("machine")},
        "risks": {"observed": observed_risks(record, samples, results),
                  "not_tested": not_tested(manifest, results, record, samples)},
        "provenance": {"run_dir": str(run_dir), "suite_sha256": results["suite"]["sha256"], "variant_key": record.get("key"),
                       "bench_version": manifest.get("bench_version"), "packaged_by": __version__,
                       "git_commit": manifest.get("git_commit"), "packages": manifest.get("packages"),
                       "run_created": manifest.get("created"),
                       "packaged": datetime.now(timezone.utc).isoformat(timespec="seconds")},
    }


def answer_spec(task: dict) -> dict:
    """The task section's own keys: what a well-formed answer is, which the system prompt need not say.

    labels and answer_format (classification); json_schema and normalise (extraction); constraints and
    min_rouge_l (generation). Read off the schema, so a new task type's keys are recorded without an edit here.
    """
    from harness.suite.schema import TaskCommon

    return {key: value for key, value in task.items() if key not in TaskCommon.model_fields and key != "type"}


def forgetting(results: dict, variant: str) -> list[dict] | None:
    """This variant's probe scores against the base's (results.json "probes", read as the report reads them)."""
    from harness.report.build import read_probes

    probes, _ = read_probes(results.get("probes"))
    rows = [{"task": p.task, "metric": p.metric, "base": p.base, **p.deltas[variant]} for p in probes if variant in p.deltas]
    return rows or None


def _last(curve: list[dict] | None, key: str):
    return curve[-1][key] if curve else None


def task_measures(task_type: str | None):
    """The task type's headline metric, the metrics beside it and their names, as the report and summary use them."""
    from harness.report.measures import measures_for  # harness.report loads plotting; keep `bench --help` quick

    return measures_for(task_type)


def _measures(results: dict):
    return task_measures((results.get("task") or {}).get("type"))


def _run_table(results: dict) -> list[dict]:
    """Every finished variant of the run on the same items, by the headline metric and the one beside it."""
    measures = _measures(results)
    rows = []
    for name, other in results["variants"].items():
        if other["status"] == "ok":
            row = {"variant": name, "kind": other["kind"]}
            for measure in (measures.headline, measures.second):
                row[measure.key] = {k: other["metrics"][measure.key][k] for k in ("value", "ci_low", "ci_high")}
            rows.append(row)
    return rows


def observed_risks(record: dict, samples: list[dict], results: dict) -> list[str]:
    """Failure modes the run actually showed, most actionable first."""
    from harness.report.format import sentence

    measures = _measures(results)
    metrics = record["metrics"]
    n = metrics["accuracy"]["n"]
    risks = TASK_RISKS[measures.type](metrics, n)
    key, name = measures.headline.key, measures.headline.label
    ours = metrics[key]
    risks.append(f"{sentence(name)} was measured on {n} items; its 95% interval is {ours['ci_low']:.3f}-{ours['ci_high']:.3f} "
                 f"({(ours['ci_high'] - ours['ci_low']) * 100:.0f} points wide), so smaller differences are not established.")
    for row in forgetting(results, record["name"]) or []:
        if row.get("ci_high") is not None and row["ci_high"] < 0:
            risks.append(f"Forgetting on probe '{row['task']}': {row['delta']:+.3f} against the base "
                         f"(95% CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f}).")
    baselines = [r for r in _run_table(results) if r["variant"] != record["name"] and r["kind"] in ("zero_shot", "few_shot")]
    if baselines:
        best = max(baselines, key=lambda r: r[key]["value"])
        theirs = best[key]
        versus = (f"the '{best['variant']}' prompt baseline ({name} {theirs['value']:.3f}, "
                  f"95% CI {theirs['ci_low']:.3f}-{theirs['ci_high']:.3f})")
        if ours["ci_high"] < theirs["ci_low"]:
            risks.append(f"Worse than {versus}: the intervals do not overlap.")
        elif ours["ci_low"] <= theirs["ci_high"]:
            risks.append(f"Not clearly better than {versus}: the intervals overlap.")
    return risks


def _classification_risks(metrics: dict, n: int) -> list[str]:
    risks = []
    invalid = round(metrics["invalid_rate"]["value"] * n)
    if invalid:
        risks.append(f"{invalid} of {n} test outputs named no valid label; a downstream parser gets nothing usable from them.")
    malformed = n - round(metrics["format_compliance"]["value"] * n)
    if malformed:
        risks.append(f"{malformed} of {n} outputs were not exactly in the answer format; parse leniently or constrain decoding.")
    confusion = metrics.get("confusion") or {}
    columns, matrix = confusion.get("labels", []), confusion.get("matrix", [])
    mixups = sorted(((count, columns[i], columns[j]) for i, row in enumerate(matrix) for j, count in enumerate(row)
                     if i != j and count and columns[j] != INVALID), reverse=True)
    for count, gold, predicted in mixups[:3]:
        risks.append(f"'{gold}' was answered as '{predicted}' {count} time(s).")
    label, row = _weakest(metrics.get("per_class"), "recall")
    if row and row["recall"] < metrics["accuracy"]["value"]:
        risks.append(f"Recall is lowest on '{label}': {row['recall']:.2f} over {row['support']} test item(s).")
    return risks


def _extraction_risks(metrics: dict, n: int) -> list[str]:
    risks = []
    parsed = round(metrics["parse_rate"]["value"] * n)
    compliant = round(metrics["format_compliance"]["value"] * n)  # a subset of the parsed: the whole output is JSON
    if parsed < n:
        risks.append(f"{n - parsed} of {n} outputs did not parse as JSON; a program reading them gets no record.")
    if compliant < parsed:
        risks.append(f"{parsed - compliant} of {n} outputs parsed as JSON but broke the schema; validate them before use.")
    field, row = _weakest(metrics.get("per_field"), "f1")
    if row and row["f1"] < metrics["field_f1_micro"]["value"]:
        risks.append(f"Field F1 is lowest on '{field}': {row['f1']:.2f} ({row['tp']} right, {row['fp']} extra, "
                     f"{row['fn']} missed value(s)).")
    return risks


def _generation_risks(metrics: dict, n: int) -> list[str]:
    risks = []
    compliant = round(metrics["format_compliance"]["value"] * n)
    if compliant < n:
        risks.append(f"{n - compliant} of {n} outputs broke at least one of the suite's constraints; check outputs before use.")
    broken = sorted(((n - round(c["value"] * n), name) for name, c in (metrics.get("per_constraint") or {}).items()
                     if c["value"] is not None), key=lambda pair: (-pair[0], pair[1]))
    for count, name in broken[:3]:
        if count:
            risks.append(f"The constraint '{name}' was broken by {count} of {n} outputs.")
    passed = round(metrics["accuracy"]["value"] * n)  # a pass is a compliant output with ROUGE-L at the pass mark
    if passed < compliant:
        risks.append(f"{compliant - passed} of {n} outputs met every constraint but stayed below the suite's ROUGE-L "
                     "pass mark against the reference.")
    return risks


def _weakest(table: dict | None, score: str) -> tuple[str | None, dict | None]:
    """The row of a per-class or per-field table with the lowest ``score`` (ties: the first name); (None, None) if empty."""
    if not table:
        return None, None
    name = min(table, key=lambda key: (table[key][score], key))
    return name, table[name]


TASK_RISKS = {"classification": _classification_risks, "extraction": _extraction_risks, "generation": _generation_risks}


def not_tested(manifest: dict, results: dict, record: dict, samples: list[dict]) -> list[str]:
    """What the numbers in the card do not cover."""
    config = manifest["resolved_config"]
    test = manifest["data"]["test"]
    limit = config["task"].get("test_limit")
    scored = f"the first {record['n_items']} of the {test['items']}" if limit else f"the {record['n_items']}"
    notes = [f"Only {scored} items of the test split ({Path(test['path']).name}, sha256 {test['sha256'][:12]}) were scored."]
    lengths = [s["prompt_tokens"] for s in samples if s.get("prompt_tokens") is not None]
    if lengths:
        notes.append(f"Test prompts were {min(lengths)}-{max(lengths)} tokens long (with the system prompt); longer inputs, "
                     "other domains and other languages were not tested.")
    notes.append(_scope_note(config["task"], record))
    notes.append("It was trained and scored with the system prompt in bench_package.json; other prompts were not tested.")
    notes.append("Outputs were scored with greedy decoding only; sampled outputs (temperature > 0) were not evaluated.")
    if not forgetting(results, record["name"]):
        notes.append("No general-ability probes ran on this variant, so forgetting of the base model's skills is unmeasured.")
    if record["config"].get("retrieval"):
        notes.append("This variant retrieved context into every prompt; the package holds only the adapter, so prompts "
                     "without that context were not tested.")
    machine = manifest.get("machine") or {}
    where = machine.get("gpu") or machine.get("cpu") or "an unrecorded machine"
    notes.append(f"Scored in {config['base_model']['dtype']} on {where}; "
                 "other dtypes or quantisation may change outputs.")
    notes.append("Adversarial, harmful or out-of-scope requests were not tested.")
    return notes


def _scope_note(task: dict, record: dict) -> str:
    """What the task's answers could be, and so what the scores say nothing about."""
    if task["type"] == "extraction":
        return (f"Only records with the fields {list(task['json_schema']['properties'])} of the suite's JSON Schema were "
                "scored; other fields, other schemas and texts holding nothing to extract were not studied.")
    if task["type"] == "generation":
        checked = ", ".join(record["metrics"].get("per_constraint") or {}) or "none"
        return (f"Outputs were checked only against the suite's constraints ({checked}) and scored by ROUGE-L and chrF "
                "against one reference each; meaning, factual accuracy and fluency were not judged by a person.")
    return f"Only the labels {task['labels']} exist for this model; inputs that fit none were not studied."


# ----------------------------------------------------------------------------- card
# The Hub's task for each task type (its model-index groups results by it), and the Hub's metric id and
# arguments for each of bench's metrics; a metric missing here goes under its own key.
HUB_TASKS = {"classification": ("text-classification", "Text classification"),
             "extraction": ("token-classification", "Information extraction (JSON records)"),
             "generation": ("text2text-generation", "Constrained rewriting")}
HUB_METRICS = {"macro_f1": ("f1", {"average": "macro"}), "field_f1_micro": ("f1", {"average": "micro"}),
               "field_f1_macro": ("f1", {"average": "macro"}), "rouge_l": ("rouge", {"rouge_types": ["rougeL"]})}


def render_card(metadata: dict) -> str:
    """README.md: Hub front matter (via huggingface_hub, so the Hub parses it) and the body from the template."""
    import jinja2
    from huggingface_hub import EvalResult, ModelCardData

    from harness.report.format import sentence

    dataset, evaluation = metadata["dataset"], metadata["evaluation"]
    hub_task, hub_task_name = HUB_TASKS[metadata["prompt"]["task_type"]]
    results = []
    for key, metric in evaluation["metrics"].items():
        if metric.get("value") is None:
            continue
        metric_type, metric_args = HUB_METRICS.get(key, (key, None))
        label = evaluation["metric_names"][key]
        results.append(EvalResult(
            task_type=hub_task, task_name=hub_task_name,
            dataset_type=dataset["name"], dataset_name=f"{dataset['name']} (test split)", dataset_split="test",
            dataset_revision=dataset["version"], metric_type=metric_type, metric_value=round(metric["value"], 4),
            metric_name=f"{sentence(label)} (95% CI {metric['ci_low']:.3f}-{metric['ci_high']:.3f}, n={metric['n']})",
            metric_args=metric_args, verified=False))
    merged = metadata["format"] == "merged"
    card_data = ModelCardData(
        base_model=metadata["base_model"]["reference"], library_name="transformers" if merged else "peft",
        pipeline_tag="text-generation", model_name=metadata["name"], eval_results=results or None,
        tags=["bench", metadata["variant"]["kind"], hub_task, "merged" if merged else "adapter"],
        base_model_relation="finetune" if merged else "adapter")
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(CARD_TEMPLATE.parent), undefined=jinja2.StrictUndefined,
                                     trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    body = environment.get_template(CARD_TEMPLATE.name).render(m=metadata, merged=merged, json=json)
    return f"---\n{card_data.to_yaml()}\n---\n\n{body}"
