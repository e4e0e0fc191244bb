"""`bench package`: a package from a real tiny run loads with plain peft and reproduces the run's predictions.

One classification run, and the extraction and generation runs of tests/test_task_type_runs.py, on the tiny
random model; the package of each must say what its task type measured, in that type's terms.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
import torch
from conftest import TINY_SUITE, make_items, write_jsonl
from rich.console import Console
from safetensors.torch import load_file

# tiny_extraction, tiny_generation: module fixtures, a run of that module's tiny extraction / generation suite
from test_task_type_runs import EXTRACTION_SCHEMA, tiny_extraction, tiny_generation  # noqa: F401

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl
from harness.data.prompts import PromptTemplate, prompt_hash
from harness.data.splits import read_split
from harness.model.generate import encode_prompts, generate
from harness.package.build import METADATA_FILE, build_metadata, observed_risks, package_variant
from harness.tasks import task_from_spec


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """One real run of the tiny suite (zero-shot baseline + a trained LoRA), shared by this module's tests."""
    from harness.run.recipe import run_suite

    root = tmp_path_factory.mktemp("package-run")
    write_jsonl(root / "data" / "train.jsonl", make_items("train", 12))
    write_jsonl(root / "data" / "validation.jsonl", make_items("val", 6, start=100))
    write_jsonl(root / "data" / "test.jsonl", make_items("test", 9, start=200))
    suite = root / "tiny.yaml"
    suite.write_text(TINY_SUITE.format(model=tiny_model_dir))
    result = run_suite(suite, root / "run", only=["zero-shot", "lora"], console=Console(file=io.StringIO()))
    assert not result.failed
    return result.run_dir


def plain_base(model_dir: Path):
    """The base as any user would load it: transformers alone, no bench code."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval(), tokenizer


def task_of(prompt: dict):
    """The task rebuilt from the package's prompt section alone: it must hold every key the task type needs."""
    from pydantic import TypeAdapter

    from harness.suite.schema import TaskSpec

    asked = {k: v for k, v in prompt.items() if k not in ("task_type", "decoding", "max_new_tokens", "batch_size")}
    spec = TypeAdapter(TaskSpec).validate_python({"type": prompt["task_type"], "data": {"test": "test.jsonl"}, **asked})
    return task_from_spec(spec)


def regenerate(model, tokenizer, run_dir: Path, metadata: dict) -> dict[str, tuple[str, str]]:
    """Predict the run's test items again, with only what the package's metadata says about the prompt.

    Per item: the hash of the conversation sent and the output, as samples.jsonl records them. The hash makes
    the comparison count even where the tiny random model answers every prompt alike.
    """
    manifest = read_json(run_dir / "manifest.json")
    prompt = metadata["prompt"]
    items = read_split("test", Path(manifest["data"]["test"]["path"]), task_of(prompt)).items
    conversations = [PromptTemplate(prompt["system_prompt"]).render(i.prompt_messages()) for i in items]
    outputs = generate(
        model, tokenizer, conversations, batch_size=prompt["batch_size"], max_new_tokens=prompt["max_new_tokens"]
    )
    return {
        item.id: (prompt_hash(conversation), out.text) for item, conversation, out in zip(items, conversations, outputs)
    }


def run_predictions(run_dir: Path, variant: str) -> dict[str, tuple[str, str]]:
    return {
        row["item_id"]: (row["prompt_hash"], row["raw_output"])
        for row in read_jsonl(run_dir / "samples.jsonl")
        if row["variant"] == variant
    }


def first_logits(model, tokenizer) -> torch.Tensor:
    ids = encode_prompts(tokenizer, [[{"role": "user", "content": "Note 1: a short text about bricks."}]])[0]
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0, -1]


def assert_reproduces_the_run(out: Path, run_dir: Path, model_dir: Path, n_items: int) -> None:
    """Plain peft on the plain base, asked as bench_package.json says, gives the run's outputs; the weights are the run's."""
    from peft import PeftModel

    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
        METADATA_FILE,
    ]
    base, tokenizer = plain_base(model_dir)
    model = PeftModel.from_pretrained(base, out).eval()
    predictions = regenerate(model, tokenizer, run_dir, read_json(out / METADATA_FILE))
    assert predictions == run_predictions(run_dir, "lora") and len(predictions) == n_items

    # The comparison is not vacuous: the packaged weights are the run's, and they move the model.
    [run_adapter] = (run_dir / "variants" / "lora" / "adapter").rglob("adapter_model.safetensors")
    packaged, trained = load_file(out / "adapter_model.safetensors"), load_file(run_adapter)
    assert packaged.keys() == trained.keys() and all(torch.equal(packaged[k], trained[k]) for k in trained)
    adapted = first_logits(model, tokenizer)
    with model.disable_adapter():
        plain = first_logits(model, tokenizer)
    assert (adapted - plain).abs().max() > 1e-6


def test_package_loads_with_plain_peft_and_reproduces_the_run(run_dir, tiny_model_dir, tmp_path):
    assert_reproduces_the_run(package_variant(run_dir, "lora", tmp_path / "pkg"), run_dir, tiny_model_dir, 9)


def test_model_card_is_hub_readable_and_holds_the_runs_facts(run_dir, tiny_model_dir, tmp_path):
    from huggingface_hub import ModelCard

    out = package_variant(run_dir, "lora", tmp_path / "pkg")
    results = read_json(run_dir / "results.json")
    manifest = read_json(run_dir / "manifest.json")
    record = results["variants"]["lora"]
    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "peft"
    assert card.data.base_model == str(tiny_model_dir)
    assert {"bench", "lora", "adapter"} <= set(card.data.tags)
    accuracy = next(r for r in card.data.eval_results if r.metric_type == "accuracy")
    acc = record["metrics"]["accuracy"]
    assert accuracy.metric_value == round(acc["value"], 4) and accuracy.dataset_split == "test"
    assert f"95% CI {acc['ci_low']:.3f}-{acc['ci_high']:.3f}, n=9" in accuracy.metric_name
    for heading in (
        "## How to use",
        "## Evaluation",
        "## Forgetting",
        "## Training data",
        "## Hyperparameters",
        "## Cost",
        "## Known risks",
        "## Provenance",
    ):
        assert heading in card.text
    for split in manifest["data"].values():
        assert split["sha256"] in card.text
    assert "Not measured: no general-ability probes ran" in card.text
    assert "| **lora** | lora |" in card.text and "| zero-shot | zero_shot |" in card.text

    metadata = read_json(out / METADATA_FILE)
    evaluation = metadata["evaluation"]
    assert (
        list(evaluation["metrics"]) == ["accuracy", "macro_f1", "format_compliance"]
        and evaluation["metrics"]["accuracy"] == acc
    )
    assert (
        evaluation["invalid_rate"] == record["metrics"]["invalid_rate"]
        and evaluation["per_class"] == record["metrics"]["per_class"]
    )
    assert evaluation["run_columns"] == ["macro_f1", "accuracy"]  # the report ranks classification by macro-F1
    assert (
        metadata["prompt"]["labels"] == ["alpha", "beta", "gamma"]
        and metadata["prompt"]["answer_format"] == "kind: {label}"
    )
    assert "| variant | kind | macro-F1 [95% CI] | accuracy [95% CI] |" in card.text
    assert {r.task_type for r in card.data.eval_results} == {"text-classification"}
    assert metadata["hyperparameters"]["r"] == 4 and metadata["training"]["learning_rate"] == 0.001
    assert (
        metadata["training"]["seed"] == record["seed"]
        and metadata["cost"]["train_seconds"] == record["cost"]["train_seconds"]
    )
    assert metadata["dataset"]["splits"]["test"]["sha256"] == manifest["data"]["test"]["sha256"]
    assert metadata["risks"]["observed"] and metadata["risks"]["not_tested"]
    for name, digest in metadata["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert read_json(out / "adapter_config.json")["base_model_name_or_path"] == str(tiny_model_dir)


def test_merged_package_is_a_plain_model_with_the_same_outputs(run_dir, tiny_model_dir, tmp_path):
    from huggingface_hub import ModelCard
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = package_variant(run_dir, "lora", tmp_path / "merged", merged=True)
    assert not (out / "adapter_config.json").exists() and (out / "config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    base, _ = plain_base(tiny_model_dir)
    adapter = PeftModel.from_pretrained(base, run_dir / "variants" / "lora" / "adapter" / "bench_lora").eval()
    torch.testing.assert_close(first_logits(merged, tokenizer), first_logits(adapter, tokenizer), atol=1e-5, rtol=1e-5)
    assert regenerate(merged, tokenizer, run_dir, read_json(out / METADATA_FILE)) == run_predictions(run_dir, "lora")
    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "transformers" and read_json(out / METADATA_FILE)["format"] == "merged"


def test_refuses_what_cannot_be_packaged(run_dir, tmp_path):
    with pytest.raises(BenchError, match="no trained adapter"):
        package_variant(run_dir, "zero-shot", tmp_path / "a")
    with pytest.raises(BenchError, match="no variant 'lora-r8'") as unknown:
        package_variant(run_dir, "lora-r8", tmp_path / "a")
    assert "zero-shot, lora" in unknown.value.hint
    with pytest.raises(BenchError, match="not a finished bench run folder"):
        package_variant(tmp_path, "lora", tmp_path / "a")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(BenchError, match="already exists"):
        package_variant(run_dir, "lora", taken)
    assert (taken / "keep.txt").read_text() == "mine"
    package_variant(run_dir, "lora", taken, force=True)
    assert not (taken / "keep.txt").exists() and (taken / "adapter_config.json").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no half-built staging folders


def test_cli(run_dir, tmp_path):
    assert main(["package", str(run_dir), "--variant", "lora", "--out", str(tmp_path / "pkg")]) == 0
    assert (tmp_path / "pkg" / "adapter_model.safetensors").exists()
    assert main(["package", str(run_dir), "--variant", "zero-shot", "--out", str(tmp_path / "other")]) == 2


def test_risks_name_the_failure_modes_observed(run_dir):
    manifest, results = read_json(run_dir / "manifest.json"), read_json(run_dir / "results.json")
    record = json.loads(json.dumps(results["variants"]["lora"]))
    # Pretend the run saw 9 items: 6 right, 2 'alpha' read as 'beta', 1 invalid output.
    record["metrics"]["accuracy"].update(value=6 / 9, ci_low=0.35, ci_high=0.88)
    record["metrics"]["invalid_rate"]["value"] = 1 / 9
    record["metrics"]["format_compliance"]["value"] = 8 / 9
    record["metrics"]["confusion"] = {
        "labels": ["alpha", "beta", "gamma", "<invalid>"],
        "matrix": [[1, 2, 0, 0], [0, 3, 0, 0], [0, 0, 2, 1]],
    }
    for label, recall in (("alpha", 1 / 3), ("beta", 1.0), ("gamma", 2 / 3)):
        record["metrics"]["per_class"][label].update(recall=recall, support=3)
    results["probes"] = {
        "bench_arithmetic": {
            "metric": "acc",
            "base": 0.5,
            "variants": {"lora": {"delta": -0.1, "ci_low": -0.15, "ci_high": -0.05}},
        }
    }
    risks = observed_risks(record, [], results)
    assert "1 of 9 test outputs named no valid label; a downstream parser gets nothing usable from them." in risks
    assert "1 of 9 outputs were not exactly in the answer format; parse leniently or constrain decoding." in risks
    assert "'alpha' was answered as 'beta' 2 time(s)." in risks
    assert "Recall is lowest on 'alpha': 0.33 over 3 test item(s)." in risks
    assert "Forgetting on probe 'bench_arithmetic': -0.100 against the base (95% CI -0.150 to -0.050)." in risks
    metadata = build_metadata(manifest, results, record, [], run_dir=run_dir, merged=False)
    assert metadata["forgetting"] == [
        {
            "task": "bench_arithmetic",
            "metric": "acc",
            "base": 0.5,
            "delta": -0.1,
            "ci_low": -0.15,
            "ci_high": -0.05,
            "value": None,
        }
    ]
    assert not any("forgetting of the base model's skills is unmeasured" in n for n in metadata["risks"]["not_tested"])


# ----------------------------------------------------------------------------- extraction and generation runs
def package_of(run_dir: Path, tmp_path: Path) -> tuple[Path, dict, dict, object]:
    """The lora variant packaged: (folder, bench_package.json, the run's record of it, the Hub's reading of README.md)."""
    from huggingface_hub import ModelCard

    out = package_variant(run_dir, "lora", tmp_path / "pkg")
    record = read_json(run_dir / "results.json")["variants"]["lora"]
    return out, read_json(out / METADATA_FILE), record, ModelCard.load(out / "README.md")


def hub_metrics(card) -> list[tuple[str, str, dict | None]]:
    return [(r.task_type, r.metric_type, r.metric_args) for r in card.data.eval_results]


def test_extraction_package_records_the_schema_and_field_scores(tiny_extraction, tiny_model_dir, tmp_path):
    out, metadata, record, card = package_of(tiny_extraction, tmp_path)
    assert_reproduces_the_run(out, tiny_extraction, tiny_model_dir, 12)

    prompt = metadata["prompt"]
    assert prompt["task_type"] == "extraction" and prompt["json_schema"] == EXTRACTION_SCHEMA
    assert prompt["normalise"] == {"case_insensitive": True, "collapse_whitespace": True}
    assert "labels" not in prompt and "answer_format" not in prompt
    evaluation, metrics = metadata["evaluation"], record["metrics"]
    assert list(evaluation["metrics"]) == [
        "field_f1_micro",
        "field_f1_macro",
        "accuracy",
        "parse_rate",
        "format_compliance",
    ]
    assert all(evaluation["metrics"][key] == metrics[key] for key in evaluation["metrics"])
    assert evaluation["metric_names"]["accuracy"] == "record exact match"
    assert (
        evaluation["per_field"] == metrics["per_field"]
        and "per_class" not in evaluation
        and "confusion" not in evaluation
    )
    assert evaluation["run_columns"] == ["field_f1_micro", "accuracy"]
    assert [row["variant"] for row in evaluation["run_variants"]] == ["zero-shot", "few-shot", "lora"]
    assert evaluation["run_variants"][2]["field_f1_micro"]["value"] == metrics["field_f1_micro"]["value"]
    assert "labels" not in metadata["dataset"]["splits"]["test"]

    unparsed = 12 - round(metrics["parse_rate"]["value"] * 12)
    assert unparsed  # the tiny random model writes no JSON
    assert (
        f"{unparsed} of 12 outputs did not parse as JSON; a program reading them gets no record."
        in metadata["risks"]["observed"]
    )
    assert any(
        r.startswith("Field F1 (micro) was measured on 12 items; its 95% interval is")
        for r in metadata["risks"]["observed"]
    )
    assert any("fields ['people', 'amounts'] of the suite's JSON Schema" in n for n in metadata["risks"]["not_tested"])

    assert hub_metrics(card) == [
        ("token-classification", "f1", {"average": "micro"}),
        ("token-classification", "f1", {"average": "macro"}),
        ("token-classification", "accuracy", None),
        ("token-classification", "parse_rate", None),
        ("token-classification", "format_compliance", None),
    ]
    assert card.data.eval_results[0].metric_name.startswith("Field F1 (micro) (95% CI")
    assert "token-classification" in card.data.tags and "text-classification" not in card.data.tags
    for text in (
        "an extraction task",
        '"additionalProperties": false',
        "| field F1 (micro) (ranks the variants) |",
        "| field | F1 | exact match [95% CI] | right | extra | missed |",
        "| people | 0.000 |",
        "| variant | kind | field F1 (micro) [95% CI] | record exact match [95% CI] |",
        "| **lora** | lora |",
        "| split | file | items | sha256 |",
        "did not parse as JSON",
    ):
        assert text in card.text, text


def test_generation_package_records_the_constraints_and_scores(tiny_generation, tiny_model_dir, tmp_path):
    out, metadata, record, card = package_of(tiny_generation, tmp_path)
    assert_reproduces_the_run(out, tiny_generation, tiny_model_dir, 12)

    prompt = metadata["prompt"]
    assert prompt["task_type"] == "generation" and prompt["min_rouge_l"] == 0.3
    assert prompt["constraints"] == {
        "max_words": 20,
        "min_words": None,
        "regex": None,
        "required_phrases": [],
        "forbidden_phrases": ["PO"],
        "keep_numbers": True,
    }
    evaluation, metrics = metadata["evaluation"], record["metrics"]
    assert list(evaluation["metrics"]) == ["accuracy", "rouge_l", "chrf", "format_compliance"]
    assert all(evaluation["metrics"][key] == metrics[key] for key in evaluation["metrics"])
    assert (
        evaluation["per_constraint"] == metrics["per_constraint"] and evaluation["words_mean"] == metrics["words_mean"]
    )
    assert set(evaluation["per_constraint"]) == {"max_words", "forbidden_phrases", "keep_numbers", "non_empty"}
    assert evaluation["run_columns"] == ["accuracy", "rouge_l"] and "per_class" not in evaluation

    broken = 12 - round(metrics["format_compliance"]["value"] * 12)
    assert broken  # the tiny random model writes nothing: non_empty fails
    observed = metadata["risks"]["observed"]
    assert (
        f"{broken} of 12 outputs broke at least one of the suite's constraints; check outputs before use." in observed
    )
    assert "The constraint 'non_empty' was broken by 12 of 12 outputs." in observed
    assert any(r.startswith("Pass rate was measured on 12 items") for r in observed)
    assert any(
        "constraints (forbidden_phrases, keep_numbers, max_words, non_empty)" in n
        for n in metadata["risks"]["not_tested"]
    )

    assert hub_metrics(card) == [
        ("text2text-generation", "accuracy", None),
        ("text2text-generation", "rouge", {"rouge_types": ["rougeL"]}),
        ("text2text-generation", "chrf", None),
        ("text2text-generation", "format_compliance", None),
    ]
    assert card.data.eval_results[0].metric_name.startswith("Pass rate (95% CI")
    for text in (
        "a generation task",
        "- `max_words`: 20",
        '- `forbidden_phrases`: ["PO"]',
        "ROUGE-L of at least 0.3",
        "| constraint | met [95% CI] |",
        "| keep_numbers |",
        "| variant | kind | pass rate [95% CI] | ROUGE-L [95% CI] |",
    ):
        assert text in card.text, text
    assert "min_words" not in card.text.split("## How to use")[1].split("```")[0]  # unset constraints are not listed


def test_extraction_and_generation_risks_name_what_broke(tiny_extraction, tiny_generation):
    results = read_json(tiny_extraction / "results.json")
    record = json.loads(json.dumps(results["variants"]["lora"]))
    # Pretend: 8 of 12 outputs parsed, 6 fit the schema; 'people' is the weak field.
    record["metrics"]["parse_rate"]["value"] = 8 / 12
    record["metrics"]["format_compliance"]["value"] = 6 / 12
    record["metrics"]["field_f1_micro"]["value"] = 0.7
    record["metrics"]["per_field"]["people"].update(f1=0.4, tp=4, fp=2, fn=8)
    record["metrics"]["per_field"]["amounts"].update(f1=0.9, tp=9, fp=1, fn=1)
    risks = observed_risks(record, [], results)
    assert risks[:3] == [
        "4 of 12 outputs did not parse as JSON; a program reading them gets no record.",
        "2 of 12 outputs parsed as JSON but broke the schema; validate them before use.",
        "Field F1 is lowest on 'people': 0.40 (4 right, 2 extra, 8 missed value(s)).",
    ]

    results = read_json(tiny_generation / "results.json")
    record = json.loads(json.dumps(results["variants"]["lora"]))
    # Pretend: 9 of 12 within every constraint (3 too long, 1 also dropped a number), 5 of those below the ROUGE-L mark.
    record["metrics"]["format_compliance"]["value"] = 9 / 12
    record["metrics"]["accuracy"]["value"] = 4 / 12
    for name, met in (("max_words", 9), ("keep_numbers", 11), ("forbidden_phrases", 12), ("non_empty", 12)):
        record["metrics"]["per_constraint"][name]["value"] = met / 12
    risks = observed_risks(record, [], results)
    assert risks[:4] == [
        "3 of 12 outputs broke at least one of the suite's constraints; check outputs before use.",
        "The constraint 'max_words' was broken by 3 of 12 outputs.",
        "The constraint 'keep_numbers' was broken by 1 of 12 outputs.",
        "5 of 12 outputs met every constraint but stayed below the suite's ROUGE-L pass mark against the reference.",
    ]
