"""End to end on the tiny random model: all three variants, records, determinism, resume."""

from __future__ import annotations

import json

from harness.core.files import read_json, read_jsonl
from harness.run.recipe import run_suite

VARIANTS = ["zero-shot", "few-shot", "lora"]


def predictions(run_dir):
    return [(r["variant"], r["item_id"], r["raw_output"]) for r in read_jsonl(run_dir / "samples.jsonl")]


def test_run_writes_every_record(tiny_suite, tmp_path):
    result = run_suite(tiny_suite, tmp_path / "run")
    run = result.run_dir
    manifest, results = read_json(run / "manifest.json"), read_json(run / "results.json")
    assert manifest["status"] == "complete" and manifest["schema_version"] == 1
    assert manifest["data"]["test"]["items"] == 9 and len(manifest["data"]["test"]["sha256"]) == 64
    assert set(manifest["seeds"]["variants"]) == set(VARIANTS)
    assert manifest["packages"]["torch"] and manifest["machine"]["cpu"]
    assert {"load_data", "load_model", "total"} <= set(manifest["stages"])
    assert list(results["variants"]) == VARIANTS
    for name in VARIANTS:
        record = results["variants"][name]
        assert record["status"] == "ok", record.get("reason")
        assert record["n_items"] == 9
        for metric in ("accuracy", "macro_f1", "format_compliance", "invalid_rate"):
            m = record["metrics"][metric]
            assert m["ci_low"] <= m["value"] <= m["ci_high"]
    rows = read_jsonl(run / "samples.jsonl")
    assert len(rows) == 27
    assert set(rows[0]) >= {"variant", "item_id", "prompt_hash", "raw_output", "parsed", "gold", "correct", "format_ok"}
    # Zero-shot and LoRA share the prompt template: same prompt hash for each item.
    by_variant = {(r["variant"], r["item_id"]): r["prompt_hash"] for r in rows}
    assert all(by_variant[("zero-shot", i)] == by_variant[("lora", i)] for _, i in by_variant)
    assert all(by_variant[("zero-shot", i)] != by_variant[("few-shot", i)] for _, i in by_variant)
    lora = results["variants"]["lora"]
    assert lora["training"]["steps"] == 3 and len(lora["training"]["loss_curve"]) == 3
    assert lora["training"]["eval_curve"], "validation loss was asked for every 3 steps"
    assert 0 < lora["cost"]["trainable_share"] < 0.2 and lora["cost"]["adapter_bytes"] > 0
    assert (run / "variants" / "lora" / "adapter").is_dir()
    assert not list(run.rglob("*.tmp")), "atomic writes leave no temporary files"


def test_same_suite_and_seed_give_identical_predictions(tiny_suite, tmp_path):
    first = run_suite(tiny_suite, tmp_path / "a" / "run", store_dir=tmp_path / "a" / "store").run_dir
    second = run_suite(tiny_suite, tmp_path / "b" / "run", store_dir=tmp_path / "b" / "store").run_dir  # nothing reused
    assert not any(v["reused"] for v in read_json(second / "results.json")["variants"].values())
    assert predictions(first) == predictions(second)


def test_rerun_reuses_finished_variants_by_content_key(tiny_suite, tmp_path):
    first = run_suite(tiny_suite, tmp_path / "run1")
    second = run_suite(tiny_suite, tmp_path / "run2")  # same store (this test's BENCH_STORE)
    assert all(v["reused"] for v in second.results["variants"].values())
    assert predictions(first.run_dir) == predictions(second.run_dir)
    # A changed hyperparameter changes the key of that variant only.
    tiny_suite.write_text(tiny_suite.read_text().replace("alpha: 8", "alpha: 16"))
    third = run_suite(tiny_suite, tmp_path / "run3")
    reused = {name: v["reused"] for name, v in third.results["variants"].items()}
    assert reused == {"zero-shot": True, "few-shot": True, "lora": False}


def test_cli_run_prints_summary_and_exits_zero(tiny_suite, tmp_path, capsys):
    from harness.cli.main import main

    assert main(["run", str(tiny_suite), "--out", str(tmp_path / "cli-run"), "--only", "zero-shot"]) == 0
    out = capsys.readouterr().out
    assert "zero-shot" in out and "accuracy" in out
    assert list(json.loads((tmp_path / "cli-run" / "results.json").read_text())["variants"]) == ["zero-shot"]
