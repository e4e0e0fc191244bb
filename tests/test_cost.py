"""Cost figures: the FLOP formulas, the cached machine peak, and every field on every variant of a run."""

from __future__ import annotations

import json

import pytest

from harness.core.files import read_json
from harness.run import flops
from harness.run.recipe import run_suite

# What every variant's cost record holds, trained or not (issue 3).
COST_FIELDS = {
    "train_seconds",
    "prepare_seconds",
    "infer_seconds",
    "peak_rss_mb",
    "peak_cuda_mb",
    "trained_tokens",
    "train_tokens_per_second",
    "infer_tokens_per_second",
    "train_flops",
    "infer_flops",
    "train_utilisation",
    "infer_utilisation",
    "train_peak_flops_per_second",
    "infer_peak_flops_per_second",
    "trainable_params",
    "total_params",
    "trainable_share",
    "adapter_bytes",
    "weights_mb",
    "prompt_tokens_mean",
    "output_tokens_mean",
    "compute_dtype",
    "price_per_hour",
    "usd",
}


@pytest.fixture
def peak_cache(tmp_path, monkeypatch):
    """Keep the measured peak out of the user's cache, and measure a smaller matmul (fast, still a fair bound)."""
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(flops, "_measured_in_this_process", {})
    monkeypatch.setattr(flops, "PEAK_MATRIX_SIZE", 512)
    return tmp_path / "cache" / "machine_peak.json"


def test_flop_formulas_follow_the_standard_counts():
    n, tokens = 1_000_000, 500
    assert flops.forward_flops(n, tokens) == 2 * n * tokens
    assert flops.training_flops(n, n, tokens) == 6 * n * tokens  # every weight trains
    assert flops.training_flops(n, 1_000, tokens) == (4 * n + 2 * 1_000) * tokens  # adapter: weight grads for it alone
    assert flops.training_flops(n, 0, 0) == 0
    assert flops.peak_dtype("float32") == "float32"
    assert flops.peak_dtype("bfloat16") == flops.peak_dtype("float16") == "bfloat16"


def test_cost_estimates_divide_flops_by_time_and_peak_and_price_the_seconds():
    cost = {
        "total_params": 1_000,
        "trainable_params": 10,
        "trained_tokens": 200,
        "train_seconds": 2.0,
        "prompt_tokens_mean": 40.0,
        "output_tokens_mean": 5.0,
        "virtual_tokens": 5,
        "infer_seconds": 4.0,
        "prepare_seconds": 3.0,
        "compute_dtype": "float32",
    }
    peak = {"float32": 1e6, "bfloat16": 4e6}
    out = flops.cost_estimates(cost, n_items=10, peak=peak, train_bf16=False, price_per_hour=3.6)
    assert out["train_flops"] == (4 * 1_000 + 2 * 10) * 200
    assert out["infer_flops"] == 2 * 1_000 * (40 + 5 + 5) * 10  # virtual tokens are positions too
    assert out["train_utilisation"] == pytest.approx(out["train_flops"] / 2.0 / 1e6)
    assert out["infer_utilisation"] == pytest.approx(out["infer_flops"] / 4.0 / 1e6)
    assert out["usd"] == pytest.approx((3.0 + 4.0) / 3600 * 3.6)
    bf16 = flops.cost_estimates(cost, n_items=10, peak=peak, train_bf16=True, price_per_hour=None)
    assert bf16["train_peak_flops_per_second"] == 4e6 and bf16["infer_peak_flops_per_second"] == 1e6
    assert bf16["usd"] is None
    untrained = flops.cost_estimates(
        {**cost, "trainable_params": 0, "trained_tokens": 0, "train_seconds": 0.0},
        n_items=10,
        peak=peak,
        train_bf16=False,
        price_per_hour=None,
    )
    assert untrained["train_flops"] == 0 and untrained["train_utilisation"] is None


def test_machine_peak_is_measured_once_per_machine_and_a_remeasurement_keeps_the_best(peak_cache, monkeypatch):
    first = flops.machine_peak(size=64, repeats=1)
    assert first["float32"] > 0 and first["bfloat16"] > 0 and first["size"] == 64
    assert first["key"].startswith(("cpu:", "cuda:")) and ("threads=" in first["key"] or "cuda" in first["key"])
    assert json.loads(peak_cache.read_text())[first["key"]] == first

    def must_not_measure(**_):
        raise AssertionError("measured twice in one process")

    monkeypatch.setattr(flops, "measure_matmul_peak", must_not_measure)
    assert flops.machine_peak(size=64, repeats=1) == first

    # A later process finds the machine in the cache and does not measure either.
    monkeypatch.setattr(flops, "_measured_in_this_process", {})
    assert flops.machine_peak(size=64, repeats=1) == first

    # A remeasurement on a busy machine measures less: the cache keeps the higher figure.
    monkeypatch.setattr(flops, "_measured_in_this_process", {})
    monkeypatch.setattr(flops, "measure_matmul_peak", lambda **_: {"float32": 1.0, "bfloat16": 1e30})
    again = flops.machine_peak(size=64, repeats=1, remeasure=True)
    assert again["float32"] == first["float32"] and again["bfloat16"] == 1e30
    assert json.loads(peak_cache.read_text())[first["key"]] == again


def test_a_dtype_too_slow_for_a_full_size_product_is_timed_on_the_small_one(monkeypatch):
    sizes: list[int] = []
    timed = flops._matmul_rates

    def recording(size, *args, **kwargs):
        sizes.append(size)
        return timed(size, *args, **kwargs)

    monkeypatch.setattr(flops, "_matmul_rates", recording)
    # Every dtype as slow as emulated bf16 on a CPU without it: only the small products run.
    monkeypatch.setattr(flops, "SLOW_MATMUL_SECONDS", 1e-12)
    peak = flops.measure_matmul_peak(size=512, repeats=2)
    assert sizes == [flops.PROBE_MATRIX_SIZE] * 2 and peak["float32"] > 0 and peak["bfloat16"] > 0
    # Every dtype fast: the small product, then the full-size ones.
    sizes.clear()
    monkeypatch.setattr(flops, "SLOW_MATMUL_SECONDS", 1e12)
    flops.measure_matmul_peak(size=512, repeats=2)
    assert sizes == [flops.PROBE_MATRIX_SIZE, 512] * 2


def test_every_variant_records_every_cost_field(tiny_suite, tmp_path, peak_cache):
    text = tiny_suite.read_text().replace(
        "  max_new_tokens: 6\n", "  max_new_tokens: 6\n  variability: {samples: 3, temperature: 1.5}\n"
    )
    tiny_suite.write_text(text.replace("variants:\n", "cost: {price_per_hour: 1.8}\nvariants:\n"))
    results = read_json(run_suite(tiny_suite, tmp_path / "run").run_dir / "results.json")
    for name, record in results["variants"].items():
        cost = record["cost"]
        assert record["status"] == "ok", record["reason"]
        assert COST_FIELDS <= set(cost), f"{name} lacks {sorted(COST_FIELDS - set(cost))}"
        assert cost["infer_seconds"] > 0 and cost["peak_rss_mb"] > 100 and cost["prompt_tokens_mean"] > 10
        # Not "< 1": on a shared machine the peak and the inference are timed at different moments.
        assert cost["infer_flops"] > 0 and cost["infer_utilisation"] == pytest.approx(
            cost["infer_flops"] / cost["infer_seconds"] / cost["infer_peak_flops_per_second"]
        )
        assert cost["usd"] == pytest.approx((cost["prepare_seconds"] + cost["infer_seconds"]) / 3600 * 1.8)
        variability = record["variability"]
        assert variability["samples"] == 3 and variability["n"] == 9
        for share in ("distinct_output_share", "distinct_label_share"):
            assert 1 / 3 <= variability[share] <= 1
    lora, zero = results["variants"]["lora"]["cost"], results["variants"]["zero-shot"]["cost"]
    assert lora["trained_tokens"] > 0 and lora["train_tokens_per_second"] > 0
    assert lora["train_utilisation"] == pytest.approx(
        lora["train_flops"] / lora["train_seconds"] / lora["train_peak_flops_per_second"]
    )
    # FLOPs count the tokens that ran: each batch's shared system prompt once, not once per row.
    assert 0 < lora["train_computed_tokens"] < lora["trained_tokens"]
    # The training record keeps what the replay skipped (compute_floor.py): the prefix passes, which ran once per
    # batch outside checkpointing, and whether the layers checkpointed (the default).
    training = results["variants"]["lora"]["training"]
    assert training["checkpointed"] is True
    assert 0 < training["prefix_tokens"] < lora["train_computed_tokens"]
    assert lora["train_flops"] == flops.training_flops(
        lora["total_params"], lora["trainable_params"], lora["train_computed_tokens"]
    )
    assert zero["trained_tokens"] == 0 and zero["train_flops"] == 0 and zero["train_utilisation"] is None
    assert zero["trainable_params"] == 0 and zero["adapter_bytes"] == 0


def test_sampling_at_high_temperature_varies_and_greedy_like_sampling_does_not(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.model.sample import sample_generations
    from harness.run.variability import distinct_share

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    conversations = [[{"role": "user", "content": f"Note {i}: about bricks."}] for i in range(3)]
    hot = sample_generations(
        model, tokenizer, conversations, samples=4, temperature=5.0, batch_size=8, max_new_tokens=4, seed=1
    )
    cold = sample_generations(
        model, tokenizer, conversations, samples=4, temperature=1e-4, batch_size=8, max_new_tokens=4, seed=1
    )
    assert [len(item) for item in hot] == [4, 4, 4]
    assert all(distinct_share(item) == 1.0 for item in hot)  # a random model at temperature 5: all differ
    assert all(distinct_share(item) == 0.25 for item in cold)  # near-greedy: one answer, four times
    assert hot == sample_generations(
        model, tokenizer, conversations, samples=4, temperature=5.0, batch_size=8, max_new_tokens=4, seed=1
    ), "seeded: a rerun samples the same"


def test_gpu_benchmark_script_runs_on_cpu_at_the_tiny_shape(tmp_path):
    """benchmarks/gpu_variants.py is meant for a CUDA box; at --shape tiny it runs here, same code path."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_variants.py"
    spec = importlib.util.spec_from_file_location("gpu_variants", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "results.json"
    module.main(
        [
            "--device",
            "cpu",
            "--shape",
            "tiny",
            "--steps",
            "1",
            "--batch-size",
            "2",
            "--seq-len",
            "16",
            "--json",
            str(out),
        ]
    )
    results = {r["kind"]: r for r in json.loads(out.read_text())}
    assert list(results) == ["lora", "qlora", "full"]
    for kind, r in results.items():
        assert r["tokens_per_second"] > 0 and r["peak_memory_mb"] > 0 and r["seconds_per_step"] > 0, kind
    assert results["full"]["trainable_params"] == 3_219_776  # the tiny model, every weight
    # r16 on q, o (64 -> 64) and k, v (64 -> 32), two layers: 2 * (2 * 16 * 128 + 2 * 16 * 96)
    assert results["lora"]["trainable_params"] == results["qlora"]["trainable_params"] == 14_336
    assert results["qlora"]["weights_mb"] < results["lora"]["weights_mb"] < results["full"]["weights_mb"]
    assert results["lora"]["lora_b_with_gradient"] == results["qlora"]["lora_b_with_gradient"] == "8/8"
