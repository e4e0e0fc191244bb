"""The forgetting stage inside a run: base probed once, each trained variant compared item by item."""

from __future__ import annotations

from harness.core.files import read_json
from harness.run.recipe import run_suite


def with_probes(suite, tasks: str, limit: int) -> None:
    text = suite.read_text().replace("variants:\n", f"probes:\n  tasks: [{tasks}]\n  limit: {limit}\nvariants:\n", 1)
    # A learning rate high enough that three steps move the tiny model's log-likelihoods.
    suite.write_text(text.replace("learning_rate: 0.001", "learning_rate: 0.05"))


def test_run_reports_forgetting_for_trained_variants_only(tiny_suite, tmp_path):
    with_probes(tiny_suite, "bench_arithmetic, bench_commonsense", 12)
    result = run_suite(tiny_suite, tmp_path / "run")
    probes = result.results["probes"]
    assert set(probes) == {"bench_arithmetic", "bench_commonsense"}
    for task, entry in probes.items():
        assert entry["status"] == "ok" and 0 <= entry["base"] <= 1
        assert list(entry["variants"]) == ["lora"], "prompt-only variants are the base model itself"
        lora = entry["variants"]["lora"]
        assert lora["n"] == 12 and lora["adapter_applied"] is True
        assert lora["ci_low"] <= lora["delta"] <= lora["ci_high"]
        assert abs(lora["score"] - entry["base"] - lora["delta"]) < 1e-9
    assert (tmp_path / "run" / "probes" / "base" / "bench_arithmetic.jsonl").exists()
    assert (tmp_path / "run" / "variants" / "lora" / "probes" / "lora" / "bench_arithmetic.jsonl").exists()
    assert read_json(tmp_path / "run" / "results.json")["probes"] == probes


def test_base_probes_are_computed_once_per_base_and_reused(tiny_suite, tmp_path, monkeypatch):
    import harness.probes.run as probe_runner

    with_probes(tiny_suite, "bench_arithmetic", 6)
    calls = []
    real = probe_runner.run_probes

    def counting(*args, label, **kwargs):
        calls.append(label)
        return real(*args, label=label, **kwargs)

    monkeypatch.setattr(probe_runner, "run_probes", counting)
    run_suite(tiny_suite, tmp_path / "run1", only=["zero-shot"])
    run_suite(tiny_suite, tmp_path / "run2", only=["zero-shot"])
    assert calls == ["base"]
