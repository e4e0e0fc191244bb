"""Per-variant prompt and inference: two system prompts, rank against generate, and a LoRA in one tiny run.

The run compares zero-shot under the suite's prompt and under two named prompts (a grid over ``prompt``),
zero-shot ranking the labels, few-shot decoding fewer tokens than the suite, and a LoRA trained and asked with
a named prompt. Validation tests need no model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_items, write_jsonl

from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl
from harness.suite import load_suite
from harness.variants.base import variant_configs

TERSE = "Reply 'kind: <label>'."
DETAILED = "Read the note. Alpha notes are about apples, beta about bricks, gamma about clouds. Reply 'kind: <label>'."

SUITE = """\
schema_version: 1
name: overrides
seed: 7
task:
  type: classification
  labels: [alpha, beta, gamma]
  answer_format: "kind: {{label}}"
  system_prompt: "Classify the note. Answer exactly 'kind: <label>' with label alpha, beta or gamma."
  data:
    train: data/train.jsonl
    validation: data/validation.jsonl
    test: data/test.jsonl
base_model:
  name: {model}
training:
  max_steps: 2
  batch_size: 4
  learning_rate: 0.001
  max_length: 128
inference:
  batch_size: 8
  max_new_tokens: 6
prompts:
  terse: "{terse}"
  detailed: "{detailed}"
variants:
  - name: zero-shot
    kind: zero_shot
  - name: zero-shot
    kind: zero_shot
    grid: {{prompt: [terse, detailed]}}
  - name: zero-shot-rank
    kind: zero_shot
    inference: {{mode: rank}}
  - name: few-shot-short
    kind: few_shot
    shots: 2
    inference: {{max_new_tokens: 2, batch_size: 3}}
  - name: lora
    kind: lora
    r: 4
    alpha: 8
    prompt: detailed
"""

VARIANTS = ["zero-shot", "zero-shot-terse", "zero-shot-detailed", "zero-shot-rank", "few-shot-short", "lora"]


def write_suite(folder: Path, model: Path | str = "tiny-model-not-loaded", **replace: str) -> Path:
    write_jsonl(folder / "data" / "train.jsonl", make_items("train", 12))
    write_jsonl(folder / "data" / "validation.jsonl", make_items("val", 6, start=100))
    write_jsonl(folder / "data" / "test.jsonl", make_items("test", 9, start=200))
    text = SUITE.format(model=model, terse=TERSE, detailed=DETAILED)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "overrides.yaml"
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- validation, no model
def test_a_grid_over_prompts_makes_one_variant_per_prompt_named_after_it(tmp_path):
    spec = load_suite(write_suite(tmp_path), variant_configs()).spec
    by_name = {v.name: v for v in spec.variants}
    assert list(by_name) == VARIANTS
    assert by_name["zero-shot-terse"].prompt == "terse" and by_name["zero-shot-detailed"].prompt == "detailed"
    assert by_name["zero-shot"].prompt is None and by_name["zero-shot"].inference is None
    assert spec.prompts == {"terse": TERSE, "detailed": DETAILED}
    # Overrides go on top of the suite's inference key by key; the rest is the suite's.
    short = by_name["few-shot-short"].resolved_inference(spec.inference)
    assert (short.mode, short.max_new_tokens, short.batch_size) == ("generate", 2, 3)
    rank = by_name["zero-shot-rank"].resolved_inference(spec.inference)
    assert (rank.mode, rank.max_new_tokens, rank.batch_size) == ("rank", 6, 8)
    # A variant that overrides nothing hashes as it did before overrides existed (stored results stay valid).
    assert set(by_name["zero-shot"].key_fields()) == {"name", "kind"}
    assert "prompt" in by_name["lora"].key_fields()


def test_an_unknown_prompt_name_is_an_error_with_its_line_and_a_did_you_mean(tmp_path):
    path = write_suite(
        tmp_path, **{"    prompt: detailed\n": "    prompt: detailled\n", "[terse, detailed]": "[terse, missing]"}
    )
    with pytest.raises(BenchError) as caught:
        load_suite(path, variant_configs())
    problems = {str(p) for p in caught.value.problems}
    lines = path.read_text().splitlines()
    grid_line = next(i for i, line in enumerate(lines, 1) if "[terse, missing]" in line)
    lora_line = next(i for i, line in enumerate(lines, 1) if "prompt: detailled" in line)
    assert (
        f"{path}:{lora_line}: variants[4].prompt: no prompt named 'detailled' in the suite's prompts:; did you mean 'detailed'? (defined: terse, detailed)"
        in problems
    )
    assert any(p.startswith(f"{path}:{grid_line}: variants[1].prompt: no prompt named 'missing'") for p in problems)
    assert len(problems) == 2


def test_bench_validate_exits_2_on_a_bad_override(tmp_path, capsys):
    from harness.cli.main import main

    path = write_suite(tmp_path, **{"inference: {mode: rank}": "inference: {mode: rank, max_new_token: 3}"})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "variants[2].inference.max_new_token: unknown key 'max_new_token'; did you mean 'max_new_tokens'?" in err


def test_overrides_that_cannot_apply_are_refused(tmp_path):
    path = write_suite(
        tmp_path,
        **{
            "  max_new_tokens: 6\n": "  max_new_tokens: 6\n  merge_check: true\n",
            "    prompt: detailed\n": "    prompt: detailed\n    system_prompt: also text\n",
            "variants:\n": "variants:\n  - {name: tfidf, kind: tfidf, prompt: terse}\n",
        },
    )
    with pytest.raises(BenchError) as caught:
        load_suite(path, variant_configs())
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "variants[0]: Value error, kind 'tfidf' reads each item's text, not a prompt" in text
    assert "variants[3].inference.mode: this variant ranks, and the suite's inference.merge_check" in text
    assert "variants[5]: Value error, set system_prompt (the text) or prompt (a name from prompts:), not both" in text


def test_every_kind_builds_its_prompts_training_rows_and_retrieval_with_the_variants_prompt(
    tmp_path, tiny_model_dir, monkeypatch
):
    """No model: few-shot demonstrations, RAG context, a LoRA's training rows and prompt tuning's initial text
    all sit under the variant's own system prompt."""
    import io

    from rich.console import Console
    from transformers import AutoTokenizer

    import harness.training.sft as sft
    from harness.core.progress import Progress
    from harness.data.prompts import PromptTemplate
    from harness.data.splits import load_suite_data
    from harness.model.loading import BaseModel
    from harness.tasks import task_from_spec
    from harness.variants.base import variant_kinds
    from harness.variants.environment import VariantEnvironment

    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))  # the RAG index goes to this test's folder
    suite = load_suite(write_suite(tmp_path, model=tiny_model_dir), variant_configs())
    spec, task = suite.spec, task_from_spec(suite.spec.task)
    env = VariantEnvironment(
        task=task,
        splits=load_suite_data(suite, task),
        test_limit=None,
        base=BaseModel(model=None, tokenizer=AutoTokenizer.from_pretrained(tiny_model_dir), source="", load_seconds=0),
        base_model_spec=spec.base_model,
        prompt_template=PromptTemplate(spec.task.system_prompt),
        training_defaults=spec.training,
        inference=spec.inference,
        suite_seed=spec.seed,
        resolve_path=suite.resolve_path,
        progress=Progress(Console(file=io.StringIO())),
        suite_file=suite.path,
        prompts=spec.prompts,
    )
    kinds = variant_kinds()

    def variant(**config):
        return kinds[config["kind"]](kinds[config["kind"]].Config.model_validate(config), env)

    item = env.test_items()[0].prompt_messages()
    few = variant(name="few", kind="few_shot", shots=2, prompt="terse")
    asked = few.build_messages(item)
    assert asked[0] == {"role": "system", "content": TERSE} and len(asked) == 1 + 2 * 2 + 1
    rag = variant(name="rag", kind="rag", retriever="bm25", k=1, system_prompt="Use the references.")
    assert rag.build_messages(item)[0]["content"].startswith("Use the references.")
    assert rag.build_messages(item) != PromptTemplate(spec.task.system_prompt).render(item)
    assert variant(name="pt", kind="prompt_tuning", prompt="detailed").init_text() == DETAILED

    captured = {}
    monkeypatch.setattr(sft, "train_sft", lambda model, tokenizer, rows, **kw: captured.setdefault("rows", rows))
    variant(name="lora", kind="lora", prompt="detailed").train(None, tmp_path / "work", seed=1)
    assert len(captured["rows"]) == 12
    assert {row["prompt"][0]["content"] for row in captured["rows"]} == {DETAILED}


# ----------------------------------------------------------------------------- one tiny-model run
@pytest.fixture(scope="module")
def overrides_run(tmp_path_factory, tiny_model_dir):
    from harness.run.recipe import run_suite

    folder = tmp_path_factory.mktemp("overrides")
    suite = write_suite(folder, model=tiny_model_dir)
    # One store for the module's runs, named here: the rerun below must find the first run's entries.
    return suite, run_suite(suite, folder / "runs" / "first", store_dir=folder / "store")


def test_each_variant_is_asked_with_its_own_prompt_and_inference(overrides_run):
    _, run = overrides_run
    results = run.results["variants"]
    assert list(results) == VARIANTS
    assert all(r["status"] == "ok" for r in results.values()), {n: r["reason"] for n, r in results.items()}
    prompts = {
        name: (r["prompt"]["source"], r["prompt"]["name"], r["prompt"]["system_prompt"]) for name, r in results.items()
    }
    suite_prompt = prompts["zero-shot"][2]
    assert prompts == {
        "zero-shot": ("suite", None, suite_prompt),
        "zero-shot-terse": ("prompts", "terse", TERSE),
        "zero-shot-detailed": ("prompts", "detailed", DETAILED),
        "zero-shot-rank": ("suite", None, suite_prompt),
        "few-shot-short": ("suite", None, suite_prompt),
        "lora": ("prompts", "detailed", DETAILED),
    }
    modes = {name: (r["inference"]["mode"], r["inference"]["max_new_tokens"]) for name, r in results.items()}
    assert modes["zero-shot-rank"] == ("rank", 6) and modes["few-shot-short"] == ("generate", 2)
    assert modes["zero-shot"] == modes["lora"] == ("generate", 6)
    assert {name: r["cost"]["inference_mode"] for name, r in results.items()}["zero-shot-rank"] == "rank"
    assert results["zero-shot"]["cost"]["inference_mode"] == "generate"
    keys = [r["key"] for r in results.values()]
    assert len(set(keys)) == len(keys), "every override is part of the content key"


def test_samples_show_the_prompts_and_modes_where_they_differ(overrides_run):
    _, run = overrides_run
    rows = read_jsonl(run.run_dir / "samples.jsonl")
    hashes = {(r["variant"], r["item_id"]): r["prompt_hash"] for r in rows}
    items = sorted({r["item_id"] for r in rows})
    assert len(items) == 9
    for item in items:
        seen = {name: hashes[(name, item)] for name in VARIANTS}
        assert len({seen["zero-shot"], seen["zero-shot-terse"], seen["zero-shot-detailed"]}) == 3
        assert seen["zero-shot-rank"] == seen["zero-shot"]  # same prompt, another way of answering
        assert seen["lora"] == seen["zero-shot-detailed"]  # the LoRA is asked with its named prompt
    by_variant: dict[str, list[dict]] = {}
    for row in rows:
        by_variant.setdefault(row["variant"], []).append(row)
    # rank chooses a well-formed label; the random tiny model generating 6 tokens does not write one.
    assert all(r["format_ok"] and r["parsed"] in ("alpha", "beta", "gamma") for r in by_variant["zero-shot-rank"])
    assert not any(r["format_ok"] for r in by_variant["zero-shot"])
    assert max(r["output_tokens"] for r in by_variant["few-shot-short"]) <= 2
    assert max(r["output_tokens"] for r in by_variant["zero-shot"]) > 2


def test_the_report_shows_each_variant_with_its_prompt_and_mode(overrides_run):
    from harness.report import write_report

    _, run = overrides_run
    html = write_report(run.run_dir).read_text()
    section = html[html.index('<section id="prompts"') : html.index("</section>", html.index('<section id="prompts"'))]
    for name in VARIANTS:
        assert f'<tr data-variant="{name}">' in section
    assert "prompt “terse”" in section and "Reply &#39;kind: &lt;label&gt;&#39;." in section
    assert section.count("Alpha notes are about apples") == 2  # zero-shot-detailed and lora
    assert "rank: the most likely label" in section and "generate: up to 2 new tokens" in section
    assert "the suite&#39;s system prompt" in section
    # The variants table names what each variant set apart from the suite.
    assert (
        "zero_shot · prompt terse" in html
        and "zero_shot · rank" in html
        and "few_shot · max 2 tokens · batch 3" in html
    )
    assert "`zero-shot-rank` · rank" in (run.run_dir / "summary.md").read_text()


def test_editing_a_named_prompt_reruns_only_the_variants_that_use_it(overrides_run):
    from harness.run.recipe import run_suite

    suite, first = overrides_run
    suite.write_text(suite.read_text().replace(TERSE, "Label it: 'kind: <label>'."))
    try:
        again = run_suite(
            suite,
            first.run_dir.parent / "second",
            only=["zero-shot", "zero-shot-terse", "zero-shot-rank"],
            store_dir=first.run_dir.parent.parent / "store",
        )
    finally:
        suite.write_text(suite.read_text().replace("Label it: 'kind: <label>'.", TERSE))
    reused = {name: r["reused"] for name, r in again.results["variants"].items()}
    assert reused == {"zero-shot": True, "zero-shot-terse": False, "zero-shot-rank": True}
    record = read_json(again.run_dir / "variants" / "zero-shot-terse" / "result.json")
    assert record["prompt"]["system_prompt"] == "Label it: 'kind: <label>'."
    assert json.dumps(record["prompt"]) != json.dumps(first.results["variants"]["zero-shot-terse"]["prompt"])


def test_a_package_of_the_lora_asks_with_the_prompt_it_was_trained_with(overrides_run, tmp_path):
    from harness.data.prompts import PromptTemplate, prompt_hash
    from harness.package.build import METADATA_FILE, package_variant

    _, run = overrides_run
    prompt = read_json(package_variant(run.run_dir, "lora", tmp_path / "pkg") / METADATA_FILE)["prompt"]
    assert (prompt["system_prompt"], prompt["max_new_tokens"], prompt["batch_size"]) == (DETAILED, 6, 8)
    # Asked as the package says, each test item is the very conversation the run sent.
    rows = [r for r in read_jsonl(run.run_dir / "samples.jsonl") if r["variant"] == "lora"]
    items = {i["id"]: i["messages"][:1] for i in read_jsonl(run.run_dir.parent.parent / "data" / "test.jsonl")}
    for row in rows:
        assert prompt_hash(PromptTemplate(prompt["system_prompt"]).render(items[row["item_id"]])) == row["prompt_hash"]
