"""`bench package`: a package from a real tiny run loads with plain peft and reproduces the run's predictions."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
import torch
from rich.console import Console
from safetensors.torch import load_file

from conftest import TINY_SUITE, make_items, write_jsonl
from harness.cli import main
from harness.data import read_split
from harness.errors import BenchError
from harness.inference import encode_prompts, generate
from harness.package import METADATA_FILE, build_metadata, observed_risks, package_variant
from harness.prompts import PromptTemplate
from harness.records import read_json, read_jsonl
from harness.tasks import ClassificationTaskRules


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """One real run of the tiny suite (zero-shot baseline + a trained LoRA), shared by this module's tests."""
    from harness.runner import run_suite

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


def regenerate(model, tokenizer, run_dir: Path, metadata: dict) -> dict[str, str]:
    """Predict the run's test items again, with only what the package's metadata says about the prompt."""
    manifest = read_json(run_dir / "manifest.json")
    prompt = metadata["prompt"]
    task = ClassificationTaskRules(labels=tuple(prompt["labels"]), answer_format=prompt["answer_format"])
    items = read_split("test", Path(manifest["data"]["test"]["path"]), task).items
    conversations = [PromptTemplate(prompt["system_prompt"]).render(i.prompt_messages()) for i in items]
    outputs = generate(model, tokenizer, conversations, batch_size=prompt["batch_size"], max_new_tokens=prompt["max_new_tokens"])
    return {item.id: out.text for item, out in zip(items, outputs)}


def run_predictions(run_dir: Path, variant: str) -> dict[str, str]:
    return {row["item_id"]: row["raw_output"] for row in read_jsonl(run_dir / "samples.jsonl") if row["variant"] == variant}


def first_logits(model, tokenizer) -> torch.Tensor:
    ids = encode_prompts(tokenizer, [[{"role": "user", "content": "Note 1: a short text about bricks."}]])[0]
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0, -1]


def test_package_loads_with_plain_peft_and_reproduces_the_run(run_dir, tiny_model_dir, tmp_path):
    from peft import PeftModel

    out = package_variant(run_dir, "lora", tmp_path / "pkg")
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "adapter_config.json", "adapter_model.safetensors", METADATA_FILE]
    metadata = read_json(out / METADATA_FILE)

    base, tokenizer = plain_base(tiny_model_dir)
    model = PeftModel.from_pretrained(base, out).eval()
    predictions = regenerate(model, tokenizer, run_dir, metadata)
    assert predictions == run_predictions(run_dir, "lora") and len(predictions) == 9

    # The comparison is not vacuous: the packaged weights are the run's, and they move the model.
    [run_adapter] = (run_dir / "variants" / "lora" / "adapter").rglob("adapter_model.safetensors")
    packaged, trained = load_file(out / "adapter_model.safetensors"), load_file(run_adapter)
    assert packaged.keys() == trained.keys() and all(torch.equal(packaged[k], trained[k]) for k in trained)
    adapted = first_logits(model, tokenizer)
    with model.disable_adapter():
        plain = first_logits(model, tokenizer)
    assert (adapted - plain).abs().max() > 1e-6


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
    for heading in ("## How to use", "## Evaluation", "## Forgetting", "## Training data", "## Hyperparameters",
                    "## Cost", "## Known risks", "## Provenance"):
        assert heading in card.text
    for split in manifest["data"].values():
        assert split["sha256"] in card.text
    assert "Not measured: no general-ability probes ran" in card.text
    assert "| **lora** | lora |" in card.text and "| zero-shot | zero_shot |" in card.text

    metadata = read_json(out / METADATA_FILE)
    assert metadata["evaluation"]["metrics"]["accuracy"] == acc
    assert metadata["hyperparameters"]["r"] == 4 and metadata["training"]["learning_rate"] == 0.001
    assert metadata["training"]["seed"] == record["seed"] and metadata["cost"]["train_seconds"] == record["cost"]["train_seconds"]
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
    record["metrics"]["confusion"] = {"labels": ["alpha", "beta", "gamma", "<invalid>"],
                                      "matrix": [[1, 2, 0, 0], [0, 3, 0, 0], [0, 0, 2, 1]]}
    for label, recall in (("alpha", 1 / 3), ("beta", 1.0), ("gamma", 2 / 3)):
        record["metrics"]["per_class"][label].update(recall=recall, support=3)
    results["probes"] = {"bench_arithmetic": {"metric": "acc", "base": 0.5,
                                              "variants": {"lora": {"delta": -0.1, "ci_low": -0.15, "ci_high": -0.05}}}}
    risks = observed_risks(record, [], results)
    assert "1 of 9 test outputs named no valid label; a downstream parser gets nothing usable from them." in risks
    assert "1 of 9 outputs were not exactly in the answer format; parse leniently or constrain decoding." in risks
    assert "'alpha' was answered as 'beta' 2 time(s)." in risks
    assert "Recall is lowest on 'alpha': 0.33 over 3 test item(s)." in risks
    assert "Forgetting on probe 'bench_arithmetic': -0.100 against the base (95% CI -0.150 to -0.050)." in risks
    metadata = build_metadata(manifest, results, record, [], run_dir=run_dir, merged=False)
    assert metadata["forgetting"] == [{"task": "bench_arithmetic", "metric": "acc", "base": 0.5, "delta": -0.1,
                                       "ci_low": -0.15, "ci_high": -0.05, "value": None}]
    assert not any("forgetting of the base model's skills is unmeasured" in n for n in metadata["risks"]["not_tested"])
