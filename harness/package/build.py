"""`bench package`: turn one trained variant of a run into a shareable package.

A package is a folder that peft and the Hugging Face Hub read as it is:

    adapter_config.json, adapter_model.safetensors   peft's standard layout, at the root,
                                                      so ``PeftModel.from_pretrained(base, DIR)`` works
    README.md                                         the model card: Hub front matter + what we measured
    bench_package.json                                the same facts, machine-readable

With ``merged=True`` the adapter is folded into the base weights and the folder
holds a plain transformers model (config, safetensors, tokenizer) instead.

A classical variant (tfidf, embedding_classifier) has no adapter: its folder holds
the fitted model as the run saved it, ``model.safetensors`` (plain arrays) and
``classical.json`` (labels, vocabularies, settings, fit record), beside the same
README.md and bench_package.json. No pickle is ever copied or read; ``bench
serve`` loads the folder with ``harness.classical.load``, which refuses one.

Everything in the card comes from the run folder (manifest, results, samples,
read by harness.records); nothing is re-measured here. The folder is built under a temporary name beside
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
from harness.classical.model import SETTINGS_FILE, WEIGHTS_FILE
from harness.classical.store import refuse_pickles
from harness.core.errors import BenchError
from harness.core.files import read_json, write_json
from harness.core.trust import TRUST_REMOTE_CODE_FLAG, Trust
from harness.model.provision import base_reference
from harness.records import forgetting_of, read_run
from harness.records.cost import CLASSICAL
from harness.tasks import Measures, measures_for, task_type

PACKAGE_SCHEMA_VERSION = 2  # 2: prompt and evaluation in the task type's terms (extraction, generation)
METADATA_FILE = "bench_package.json"
CARD_TEMPLATE = Path(__file__).with_name("package_card.md.j2")
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
CLASSICAL_FILES = (WEIGHTS_FILE, SETTINGS_FILE)  # what harness.classical.save writes: arrays and JSON, no pickle


def package_variant(
    run_dir: str | Path,
    variant: str,
    out: str | Path,
    *,
    merged: bool = False,
    force: bool = False,
    trust: Trust | None = None,
) -> Path:
    """Write the package for ``variant`` of the run in ``run_dir`` to ``out``; returns ``out``.

    ``trust``: what the command line granted (by default only what the environment grants). A merged
    package loads the base model again, and runs its own code only with ``trust.remote_code``."""
    run_dir, out = Path(run_dir), Path(out)
    trust = trust if trust is not None else Trust.granted()
    run = read_run(run_dir)
    # An interrupted run still holds whole records of the variants it finished; a running one may change under us.
    if not run.manifest.finished:
        raise BenchError(
            f"the run in {run_dir} has not finished (status {run.manifest.status!r})",
            hint="wait for it, or rerun the suite with the same --out; finished variants are reused",
        )
    record = run.finished_result(
        variant, hint="only a variant with results can be packaged; rerun it with bench run --only"
    )
    classical = record.costs.inference_mode == CLASSICAL
    if classical and merged:
        raise BenchError(
            f"variant '{variant}' is a classical classifier ({record.kind}): there is no adapter to merge",
            hint="package it without --merged; the folder then holds the fitted model itself",
        )
    remote_code = merged and remote_code_granted(run_dir, run.manifest.base_model, trust)
    model_dir = (
        find_classical(run_dir / "variants" / variant)
        if classical
        else find_adapter(run_dir / "variants" / variant, record.kind)
    )
    if out.exists() and any(out.iterdir()) and not force:
        raise BenchError(
            f"{out} already exists and is not empty", hint="choose another --out, or pass --force to replace it"
        )

    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        stage.chmod(0o755)  # mkdtemp makes it private; a package is meant to be shared
        base = run.manifest.base_model
        if classical:
            for name in CLASSICAL_FILES:  # only these two, whatever else the folder holds
                shutil.copy2(model_dir / name, stage / name)
        elif merged:
            _save_merged(model_dir, base, stage, trust_remote_code=remote_code)
        else:
            _copy_adapter(model_dir, stage, base_reference(base["name"]))
        metadata = build_metadata(run.manifest, run.results, record, run.rows(variant), run_dir=run_dir, merged=merged)
        if classical:
            metadata = classical_metadata(metadata, model_dir)
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
    configs = (
        sorted((variant_dir / "adapter").rglob("adapter_config.json")) if (variant_dir / "adapter").is_dir() else []
    )
    if not configs:
        raise BenchError(
            f"variant of kind '{kind}' has no trained adapter in {variant_dir / 'adapter'}",
            hint="only variants that train a peft adapter (lora, qlora, ...) can be packaged",
        )
    if len(configs) > 1:
        raise BenchError(
            f"{variant_dir / 'adapter'} holds {len(configs)} adapters; expected one",
            hint="found: " + ", ".join(str(c.parent) for c in configs),
        )
    return configs[0].parent


def find_classical(variant_dir: Path) -> Path:
    """The run's saved classical model (variants/<name>/classical), checked: both files there, no pickle."""
    folder = variant_dir / "classical"
    missing = [name for name in CLASSICAL_FILES if not (folder / name).is_file()]
    if missing:
        raise BenchError(
            f"{folder} lacks {', '.join(missing)}",
            hint="the run's classical model is incomplete; rerun the variant with bench run --only",
        )
    refuse_pickles(folder)
    return folder


def classical_metadata(metadata: dict, model_dir: Path) -> dict:
    """A classical package's facts: no base model (unless it embeds with one), the fit record, its own scope."""
    settings = read_json(model_dir / SETTINGS_FILE)
    encoder = settings.get("encoder")  # embedding_classifier only: {"name": "minilm" | "base_model", ...}
    base = metadata["base_model"]
    uses_base = bool(encoder) and encoder.get("name") == "base_model"
    metadata["format"] = "classical"
    metadata["base_model"] = (
        {**base, "used": True, "role": "frozen encoder: mean-pooled hidden states"}
        if uses_base
        else {
            "name": None,
            "reference": None,
            "dtype": None,
            "used": False,
            "role": "none: a linear model on the text itself, no language model",
        }
    )
    metadata["classical"] = {
        "kind": settings.get("kind"),
        "labels": settings.get("labels"),
        "hyperparameters": settings.get("hyperparameters"),
        "encoder": encoder,
        "fit": settings.get("fit"),
        "files": list(CLASSICAL_FILES),
    }
    metadata["prompt"] = {
        key: metadata["prompt"][key] for key in ("task_type", "labels", "answer_format") if key in metadata["prompt"]
    }
    metadata["prompt"]["input"] = "the user turns of the conversation, joined by newlines (no system prompt)"
    # The label is written into the answer format: compliance is 100% by construction, not a measured figure.
    metadata["evaluation"]["metrics"].pop("format_compliance", None)
    metadata["evaluation"]["format_compliance"] = "not applicable (classical: the label is written into the format)"
    notes = [
        n
        for n in metadata["risks"]["not_tested"]
        if not n.startswith(
            (
                "Test prompts",
                "It was trained and scored with the system prompt",
                "Outputs were scored",
                "No general-ability probes",
                "Scored in ",
            )
        )
    ]
    notes.insert(
        1,
        "It reads only the text of the user turns; wording far from the training split's (other domains, "
        "other languages, new phrasings without its signature words) was not tested.",
    )
    notes.insert(2, "It always answers with one of its labels: it cannot say that an input fits none of them.")
    metadata["risks"]["not_tested"] = notes
    return metadata


def _copy_adapter(adapter_dir: Path, stage: Path, base_ref: str) -> None:
    for name in ADAPTER_FILES:
        if not (adapter_dir / name).exists():
            raise BenchError(
                f"{adapter_dir} lacks {name}", hint="the run's adapter folder is incomplete; rerun the variant"
            )
    shutil.copy2(adapter_dir / "adapter_model.safetensors", stage / "adapter_model.safetensors")
    config = read_json(adapter_dir / "adapter_config.json")
    # The run recorded the folder it loaded the base from (often a local cache
    # path); the package names the base the way the card does.
    config["base_model_name_or_path"] = base_ref
    write_json(stage / "adapter_config.json", config)


def remote_code_granted(run_dir: Path, base: dict, trust: Trust) -> bool:
    """Whether merging may run the base model's own code: only if the run's model asked for it *and* this
    command line grants it. The manifest's ``trust_remote_code`` is no grant: a run folder can come from
    anywhere (or from a suite in a pull request), and merging loads the model again, here."""
    if not base.get("trust_remote_code"):
        return False
    if not trust.remote_code:
        manifest = run_dir / "manifest.json"
        lines = manifest.read_text(encoding="utf-8", errors="replace").splitlines()
        line = next((i for i, text in enumerate(lines, 1) if '"trust_remote_code": true' in text), None)
        raise BenchError(
            f"{manifest}{f':{line}' if line else ''}: base_model.trust_remote_code is true: merging would run "
            f"the code shipped with the model '{base.get('name')}'",
            hint=f"if you trust the model, pass {TRUST_REMOTE_CODE_FLAG}; or package the adapter without --merged",
        )
    return True


def _save_merged(adapter_dir: Path, base: dict, stage: Path, *, trust_remote_code: bool) -> None:
    from peft import PeftModel

    from harness.model.loading import load_base

    loaded = load_base(
        base["name"],
        dtype=base.get("dtype", "float32"),
        trust_remote_code=trust_remote_code,  # granted by this command line (remote_code_granted)
        device="cpu",
    )
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
def build_metadata(
    manifest: dict, results: dict, record: dict, samples: list[dict], *, run_dir: Path, merged: bool
) -> dict:
    config = manifest["resolved_config"]
    task = config["task"]
    measures = task_measures(task["type"])
    data = manifest["data"]
    fingerprint = hashlib.sha256("".join(f"{k}:{v['sha256']}" for k, v in sorted(data.items())).encode()).hexdigest()
    hyperparameters = {k: v for k, v in record["config"].items() if k not in ("name", "kind", "training")}
    labelled = measures.labelled  # a task type without labels has no label counts per split
    return {
        "schema_version": PACKAGE_SCHEMA_VERSION,
        "format": "merged" if merged else "peft-adapter",
        "name": f"{results['suite']['name']}-{record['name']}",
        "variant": {"name": record["name"], "kind": record["kind"]},
        "base_model": {
            "name": config["base_model"]["name"],
            "reference": base_reference(config["base_model"]["name"]),
            "dtype": config["base_model"]["dtype"],
        },
        "dataset": {
            "name": results["suite"]["name"],
            "version": fingerprint[:12],  # changes whenever any split's bytes change
            "fingerprint": fingerprint,
            "splits": {
                name: {
                    "file": Path(split["path"]).name,
                    "sha256": split["sha256"],
                    "items": split["items"],
                    **({"labels": split["labels"]} if labelled else {}),
                }
                for name, split in data.items()
            },
        },
        "prompt": {
            # The variant's own system prompt and inference when it set them (its record says which it used).
            "system_prompt": (record.get("prompt") or {}).get("system_prompt", task["system_prompt"]),
            "task_type": task["type"],
            **answer_spec(task),
            "decoding": "greedy",
            "max_new_tokens": (record.get("inference") or config["inference"])["max_new_tokens"],
            "batch_size": (record.get("inference") or config["inference"])["batch_size"],
        },
        "hyperparameters": hyperparameters,
        "training": {
            **(record.get("training_config") or {}),
            "seed": record.get("seed"),
            "steps": (record.get("training") or {}).get("steps"),
            "final_loss": _last((record.get("training") or {}).get("loss_curve"), "loss"),
            "final_eval_loss": _last((record.get("training") or {}).get("eval_curve"), "eval_loss"),
        },
        "evaluation": {
            "split": "test",
            "n_items": record["n_items"],
            "metrics": {m.key: record["metrics"][m.key] for m in measures.columns if m.key in record["metrics"]},
            "metric_names": {m.key: m.label for m in measures.columns},
            **{key: record["metrics"].get(key) for key in task_type(measures.type).breakdowns},
            "run_columns": [measures.headline.key, measures.second.key],
            "run_variants": _run_table(results),
        },
        "forgetting": forgetting(results, record["name"]),
        "cost": {**record["cost"], "machine": manifest.get("machine")},
        "risks": {
            "observed": observed_risks(record, samples, results),
            "not_tested": not_tested(manifest, results, record, samples),
        },
        "provenance": {
            "run_dir": str(run_dir),
            "suite_sha256": results["suite"]["sha256"],
            "variant_key": record.get("key"),
            "bench_version": manifest.get("bench_version"),
            "packaged_by": __version__,
            "git_commit": manifest.get("git_commit"),
            "packages": manifest.get("packages"),
            "run_created": manifest.get("created"),
            "packaged": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
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
    return forgetting_of(results.get("probes"), variant)


def _last(curve: list[dict] | None, key: str):
    return curve[-1][key] if curve else None


def task_measures(name: str | None) -> Measures:
    """The task type's headline metric, the metrics beside it and their names, as the report and summary use them."""
    return measures_for(name)


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
    from harness.core.text import sentence

    measures = _measures(results)
    metrics = record["metrics"]
    n = metrics["accuracy"]["n"]
    risks = task_type(measures.type).risks(metrics, n)
    key, name = measures.headline.key, measures.headline.label
    ours = metrics[key]
    risks.append(
        f"{sentence(name)} was measured on {n} items; its 95% interval is {ours['ci_low']:.3f}-{ours['ci_high']:.3f} "
        f"({(ours['ci_high'] - ours['ci_low']) * 100:.0f} points wide), so smaller differences are not established."
    )
    for row in forgetting(results, record["name"]) or []:
        if row.get("ci_high") is not None and row["ci_high"] < 0:
            risks.append(
                f"Forgetting on probe '{row['task']}': {row['delta']:+.3f} against the base "
                f"(95% CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f})."
            )
    baselines = [
        r for r in _run_table(results) if r["variant"] != record["name"] and r["kind"] in ("zero_shot", "few_shot")
    ]
    if baselines:
        best = max(baselines, key=lambda r: r[key]["value"])
        theirs = best[key]
        versus = (
            f"the '{best['variant']}' prompt baseline ({name} {theirs['value']:.3f}, "
            f"95% CI {theirs['ci_low']:.3f}-{theirs['ci_high']:.3f})"
        )
        if ours["ci_high"] < theirs["ci_low"]:
            risks.append(f"Worse than {versus}: the intervals do not overlap.")
        elif ours["ci_low"] <= theirs["ci_high"]:
            risks.append(f"Not clearly better than {versus}: the intervals overlap.")
    return risks


def not_tested(manifest: dict, results: dict, record: dict, samples: list[dict]) -> list[str]:
    """What the numbers in the card do not cover."""
    config = manifest["resolved_config"]
    test = manifest["data"]["test"]
    limit = config["task"].get("test_limit")
    scored = f"the first {record['n_items']} of the {test['items']}" if limit else f"the {record['n_items']}"
    notes = [
        f"Only {scored} items of the test split ({Path(test['path']).name}, sha256 {test['sha256'][:12]}) were scored."
    ]
    lengths = [s["prompt_tokens"] for s in samples if s.get("prompt_tokens") is not None]
    if lengths:
        notes.append(
            f"Test prompts were {min(lengths)}-{max(lengths)} tokens long (with the system prompt); longer inputs, "
            "other domains and other languages were not tested."
        )
    notes.append(task_type(config["task"]["type"]).scope_note(config["task"], record))
    notes.append(
        "It was trained and scored with the system prompt in bench_package.json; other prompts were not tested."
    )
    notes.append("Outputs were scored with greedy decoding only; sampled outputs (temperature > 0) were not evaluated.")
    if not forgetting(results, record["name"]):
        notes.append(
            "No general-ability probes ran on this variant, so forgetting of the base model's skills is unmeasured."
        )
    if record["config"].get("retrieval"):
        notes.append(
            "This variant retrieved context into every prompt; the package holds only the adapter, so prompts "
            "without that context were not tested."
        )
    machine = manifest.get("machine") or {}
    where = machine.get("gpu") or machine.get("cpu") or "an unrecorded machine"
    notes.append(
        f"Scored in {config['base_model']['dtype']} on {where}; other dtypes or quantisation may change outputs."
    )
    notes.append("Adversarial, harmful or out-of-scope requests were not tested.")
    return notes


# ----------------------------------------------------------------------------- card
def render_card(metadata: dict) -> str:
    """README.md: Hub front matter (via huggingface_hub, so the Hub parses it) and the body from the template."""
    import jinja2
    from huggingface_hub import EvalResult, ModelCardData

    from harness.core.text import sentence

    dataset, evaluation = metadata["dataset"], metadata["evaluation"]
    # The Hub's task (its model-index groups results by it) and each metric's Hub id: the task type's declarations.
    kind = task_type(metadata["prompt"]["task_type"])
    hub_task, hub_task_name = kind.hub_task
    declared = {m.key: m for m in kind.metrics}
    results = []
    for key, metric in evaluation["metrics"].items():
        if metric.get("value") is None:
            continue
        hub = declared.get(key)
        metric_type, metric_args = (hub.hub_type or key, hub.hub_args) if hub else (key, None)
        label = evaluation["metric_names"][key]
        results.append(
            EvalResult(
                task_type=hub_task,
                task_name=hub_task_name,
                dataset_type=dataset["name"],
                dataset_name=f"{dataset['name']} (test split)",
                dataset_split="test",
                dataset_revision=dataset["version"],
                metric_type=metric_type,
                metric_value=round(metric["value"], 4),
                metric_name=f"{sentence(label)} (95% CI {metric['ci_low']:.3f}-{metric['ci_high']:.3f}, n={metric['n']})",
                metric_args=metric_args,
                verified=False,
            )
        )
    merged, classical = metadata["format"] == "merged", metadata["format"] == "classical"
    if classical:  # not a transformers model: no library the Hub knows loads it; bench serve and harness.classical do
        card_data = ModelCardData(
            base_model=metadata["base_model"]["reference"],
            library_name="bench",
            pipeline_tag="text-classification",
            model_name=metadata["name"],
            eval_results=results or None,
            tags=["bench", metadata["variant"]["kind"], hub_task, "classical", "safetensors"],
        )
    else:
        card_data = ModelCardData(
            base_model=metadata["base_model"]["reference"],
            library_name="transformers" if merged else "peft",
            pipeline_tag="text-generation",
            model_name=metadata["name"],
            eval_results=results or None,
            tags=["bench", metadata["variant"]["kind"], hub_task, "merged" if merged else "adapter"],
            base_model_relation="finetune" if merged else "adapter",
        )
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(CARD_TEMPLATE.parent),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    body = environment.get_template(CARD_TEMPLATE.name).render(
        m=metadata, merged=merged, classical=classical, json=json
    )
    return f"---\n{card_data.to_yaml()}\n---\n\n{body}"
