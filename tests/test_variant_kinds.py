"""Every variant kind on the tiny model: LoRA options, QLoRA, full, IA3, prompt and prefix tuning; grids."""

from __future__ import annotations

import pytest
import torch

from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl
from harness.model.precision import slow_bf16_here
from harness.run.recipe import run_suite
from harness.suite import load_suite
from harness.variants.base import variant_configs

EVERY_KIND = """\
  - {name: dora, kind: lora, r: 4, alpha: 8, use_dora: true}
  - {name: rslora-all-linear, kind: lora, r: 4, alpha: 8, use_rslora: true, target_modules: all-linear}
  - {name: qlora, kind: qlora, r: 4, alpha: 8}
  - {name: full, kind: full, training: {learning_rate: 0.0001, eval_every: 1, select_best: true}}
  - {name: ia3, kind: ia3, training: {learning_rate: 0.01}}
  - {name: prompt-tuning, kind: prompt_tuning, num_virtual_tokens: 4, training: {learning_rate: 0.03}}
  - {name: prefix-tuning, kind: prefix_tuning, num_virtual_tokens: 4, training: {learning_rate: 0.01}}
  - {name: zero-shot-again, kind: zero_shot}
"""
TRAINED = ["lora", "dora", "rslora-all-linear", "qlora", "full", "ia3", "prompt-tuning", "prefix-tuning"]


@pytest.fixture(scope="module")
def every_kind_run(tiny_model_dir, tmp_path_factory):
    """One run of every kind, shared by the tests below (a run takes a while on two cores)."""
    from conftest import TINY_SUITE, make_items, write_jsonl

    folder = tmp_path_factory.mktemp("every-kind")
    write_jsonl(folder / "data" / "train.jsonl", make_items("train", 12))
    write_jsonl(folder / "data" / "validation.jsonl", make_items("val", 6, start=100))
    write_jsonl(folder / "data" / "test.jsonl", make_items("test", 9, start=200))
    text = TINY_SUITE.format(model=tiny_model_dir)
    text = text.replace("  max_new_tokens: 6\n", "  max_new_tokens: 6\n  merge_check: true\n")
    (folder / "suite.yaml").write_text(text + EVERY_KIND)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_CACHE", str(folder / "cache"))  # the measured matmul peak goes here
        result = run_suite(folder / "suite.yaml", folder / "run")
    return result.run_dir, read_json(result.run_dir / "results.json")["variants"]


def test_every_kind_trains_predicts_and_leaves_the_shared_base_untouched(every_kind_run):
    run_dir, variants = every_kind_run
    for name, record in variants.items():
        assert record["status"] == "ok", f"{name}: {record['reason']}"
    for name in TRAINED:
        training = variants[name]["training"]
        assert training["steps"] == 3 and len(training["loss_curve"]) == 3, name
        assert variants[name]["cost"]["trained_tokens"] > 0
    # The base is shared: after every kind attached, trained and detached its
    # adapter (or trained its own copy), the base predicts exactly as before.
    outputs = {}
    for row in read_jsonl(run_dir / "samples.jsonl"):
        outputs.setdefault(row["variant"], []).append(row["raw_output"])
    assert outputs["zero-shot-again"] == outputs["zero-shot"]


def test_each_kind_trains_what_it_should(every_kind_run):
    _, variants = every_kind_run
    cost = {name: record["cost"] for name, record in variants.items()}
    total = cost["zero-shot"]["total_params"]
    # Full: every weight, saved whole in fp32 (tied embeddings stored once).
    assert cost["full"]["trainable_share"] == 1.0 and cost["full"]["trainable_params"] == total
    assert cost["full"]["adapter_bytes"] >= 4 * total
    # Vectors and virtual tokens are smaller than rank-4 matrices on four projections.
    for small in ("ia3", "prompt-tuning", "prefix-tuning"):
        assert 0 < cost[small]["trainable_params"] < cost["lora"]["trainable_params"], small
    assert cost["prompt-tuning"]["trainable_params"] == 4 * 64  # 4 virtual tokens x hidden size
    assert cost["prompt-tuning"]["virtual_tokens"] == cost["prefix-tuning"]["virtual_tokens"] == 4
    # DoRA adds a magnitude per output channel; all-linear adds the MLP projections.
    assert cost["dora"]["trainable_params"] > cost["lora"]["trainable_params"]
    assert cost["rslora-all-linear"]["trainable_params"] > cost["lora"]["trainable_params"]
    # QLoRA: the same LoRA on 4-bit weights, computed in bf16 (fp32 where bf16 would be emulated: model/precision.py).
    assert cost["qlora"]["trainable_params"] == cost["lora"]["trainable_params"]
    assert cost["qlora"]["weights_mb"] < cost["lora"]["weights_mb"]
    assert cost["qlora"]["compute_dtype"] == ("float32" if slow_bf16_here() else "bfloat16")
    gradients = variants["qlora"]["training"]["gradient_check"]
    assert gradients["lora_b_with_gradient"] == gradients["lora_b_tensors"] == 8
    assert gradients["quantized_layers_passing_gradient_after_training"] == 14


def test_best_checkpoint_is_the_lowest_validation_loss(every_kind_run):
    _, variants = every_kind_run
    training = variants["full"]["training"]
    assert len(training["eval_curve"]) == 3
    best = min(training["eval_curve"], key=lambda point: point["eval_loss"])
    assert training["best_step"] == best["step"]
    assert variants["lora"]["training"]["best_step"] is None  # only when asked


def test_merge_check_runs_for_mergeable_kinds_only(every_kind_run):
    _, variants = every_kind_run
    for name in ("lora", "dora", "rslora-all-linear", "ia3"):
        check = variants[name]["merge_check"]
        assert check["n"] == 9 and check["identical"] and check["mismatches"] == 0, name
    for name in ("zero-shot", "few-shot", "qlora", "full", "prompt-tuning", "prefix-tuning"):
        assert variants[name]["merge_check"] is None, name


def test_artifacts_are_saved_per_kind(every_kind_run):
    run_dir, _ = every_kind_run
    assert (run_dir / "variants" / "full" / "model" / "model.safetensors").is_file()
    for name in ("lora", "dora", "qlora", "ia3", "prompt-tuning", "prefix-tuning"):
        assert list((run_dir / "variants" / name / "adapter").rglob("adapter_model.safetensors")), name


def test_qlora_is_skipped_with_the_reason_when_bitsandbytes_is_missing(tiny_suite, tmp_path, monkeypatch):
    from harness.variants import qlora

    monkeypatch.setattr(qlora, "bitsandbytes_available", lambda: False)
    text = tiny_suite.read_text().split("  - name: few-shot")[0]  # zero-shot only, then QLoRA
    tiny_suite.write_text(text + "  - {name: qlora, kind: qlora, r: 4}\n")
    result = run_suite(tiny_suite, tmp_path / "run")
    assert result.results["variants"]["zero-shot"]["status"] == "ok"
    skipped = result.results["variants"]["qlora"]
    assert skipped["status"] == "skipped" and "bitsandbytes" in skipped["reason"] and "pip install" in skipped["reason"]
    assert result.failed == []


def test_grid_expands_to_the_cross_product_with_predictable_names(tiny_suite):
    text = tiny_suite.read_text().split("variants:\n")[0]
    tiny_suite.write_text(
        text
        + """variants:
  - {name: lora, kind: lora, grid: {r: [4, 16, 64]}}
  - {name: dora, kind: lora, use_dora: true, grid: {r: [4, 8], training.learning_rate: [0.001, 0.01]}}
"""
    )
    variants = load_suite(tiny_suite, variant_configs()).spec.variants
    assert [v.name for v in variants] == [
        "lora-r4",
        "lora-r16",
        "lora-r64",
        "dora-r4-learning_rate0.001",
        "dora-r4-learning_rate0.01",
        "dora-r8-learning_rate0.001",
        "dora-r8-learning_rate0.01",
    ]
    assert [v.r for v in variants[:3]] == [4, 16, 64]
    assert all(v.use_dora for v in variants[3:]) and variants[4].training.learning_rate == 0.01


@pytest.mark.parametrize(
    "variant, message",
    [
        ("{name: ia3, kind: ia3, target_modules: [k_proj], feedforward_modules: [down_proj]}", "not in target_modules"),
        ("{name: full, kind: full, quant_type: nf4}", "unknown key 'quant_type'"),
        ("{name: pt, kind: prompt_tuning, num_virtual_tokens: 0}", "greater than or equal to 1"),
    ],
)
def test_kind_parameters_are_checked_when_the_suite_loads(tiny_suite, variant, message):
    tiny_suite.write_text(tiny_suite.read_text() + f"  - {variant}\n")
    with pytest.raises(BenchError) as error:
        load_suite(tiny_suite, variant_configs())
    assert message in str(error.value)


def test_select_best_without_evaluations_is_refused(tiny_suite):
    tiny_suite.write_text(tiny_suite.read_text().replace("  eval_every: 3\n", "  select_best: true\n"))
    with pytest.raises(BenchError) as error:
        load_suite(tiny_suite, variant_configs())
    assert "select_best needs eval_every" in str(error.value)


def input_sensitive_tiny_model():
    """A tiny random Llama whose greedy outputs depend on the input.

    tiny.py's initial weights (std 0.02) make every prompt continue with the same
    token, so a comparison of outputs would pass whatever the bug; std 0.3 does not.
    """
    from tiny_model import FIXTURE_TOKENIZER
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(FIXTURE_TOKENIZER)
    tokenizer.padding_side = "left"
    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            initializer_range=0.3,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            tie_word_embeddings=True,
        )
    ).eval()
    return model, tokenizer


CONVERSATIONS = [
    [{"role": "user", "content": text}]
    for text in ["a", "bricks and clouds, number 7 of 12", "Note 3: apples", "x y z w v u t s r q p"]
]


@pytest.mark.parametrize("method", ["prompt_tuning", "prefix_tuning"])
def test_virtual_token_generation_equals_a_cache_free_greedy_loop(method):
    """Batched, left-padded generation must give what peft's own forward gives, one token at a time."""
    from peft import PrefixTuningConfig, PromptTuningConfig, get_peft_model

    from harness.model.generate import encode_prompts, generate
    from harness.variants.prompt_learning import VirtualTokenGenerator

    model, tokenizer = input_sensitive_tiny_model()
    conversations = CONVERSATIONS
    plain = [g.text for g in generate(model, tokenizer, conversations, batch_size=4, max_new_tokens=5)]
    config = (PromptTuningConfig if method == "prompt_tuning" else PrefixTuningConfig)(
        num_virtual_tokens=3, task_type="CAUSAL_LM"
    )
    peft_model = get_peft_model(model, config).eval()

    @torch.no_grad()
    def greedy_without_cache(ids: list[int]) -> list[int]:
        sequence = torch.tensor([ids])
        for _ in range(5):
            logits = peft_model(input_ids=sequence, attention_mask=torch.ones_like(sequence)).logits
            sequence = torch.cat([sequence, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        return sequence[0, len(ids) :].tolist()

    expected = [
        tokenizer.decode(greedy_without_cache(ids), skip_special_tokens=True)
        for ids in encode_prompts(tokenizer, conversations)
    ]
    batched = [
        g.text
        for g in generate(VirtualTokenGenerator(peft_model), tokenizer, conversations, batch_size=4, max_new_tokens=5)
    ]
    assert batched == expected
    assert len(set(expected)) == len(expected), "outputs must differ per prompt for the comparison to mean anything"
    assert expected != plain, "the virtual tokens must change the outputs"


def test_a_text_initialised_prefix_acts_like_the_text_read_before_the_prompt():
    """Prefix = the keys and values of text T, so prefix + prompt P must continue exactly as T followed by P."""
    from peft import PrefixTuningConfig, get_peft_model

    from harness.model.generate import encode_prompts, generate
    from harness.variants.prompt_learning import VirtualTokenGenerator, prefix_from_text

    model, tokenizer = input_sensitive_tiny_model()
    text = "Classify the note by its topic."
    text_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    peft_model = get_peft_model(model, PrefixTuningConfig(num_virtual_tokens=len(text_ids), task_type="CAUSAL_LM"))
    prefix_from_text(peft_model, tokenizer, text)
    with_prefix = [
        g.text
        for g in generate(
            VirtualTokenGenerator(peft_model.eval()), tokenizer, CONVERSATIONS, batch_size=4, max_new_tokens=5
        )
    ]

    @torch.no_grad()
    def greedy_after_text(ids: list[int]) -> str:
        sequence = torch.tensor([text_ids + ids])
        for _ in range(5):
            sequence = torch.cat([sequence, model(input_ids=sequence).logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        return tokenizer.decode(sequence[0, len(text_ids) + len(ids) :], skip_special_tokens=True)

    assert with_prefix == [greedy_after_text(ids) for ids in encode_prompts(tokenizer, CONVERSATIONS)]
    assert len(set(with_prefix)) == len(with_prefix), (
        "outputs must differ per prompt for the comparison to mean anything"
    )
