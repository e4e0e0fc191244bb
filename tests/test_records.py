"""Run records: typed records that write back exactly what they read, the one reader, the one writer.

Pure unit tests on synthetic JSON (no torch): every file bench writes must come
back byte for byte after a trip through its record type, whatever its keys and
their order, and a damaged run folder must be a BenchError that names the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from harness.core.errors import BenchError
from harness.core.files import write_json, write_jsonl
from harness.records import (
    Cost,
    Manifest,
    Results,
    RunRecord,
    SampleRow,
    VariantResult,
    forgetting_of,
    read_probes,
    read_run,
    read_samples,
    read_variant_result,
    write_manifest,
    write_results,
    write_samples,
    write_variant,
)
from harness.records.write import record_stages

COST = {
    "train_seconds": 12.5,
    "prepare_seconds": 13.0,
    "infer_seconds": 4.25,
    "probe_seconds": 0.0,
    "peak_rss_mb": 900.5,
    "peak_cuda_mb": None,
    "prompt_tokens_mean": 40.0,
    "computed_prompt_tokens_mean": 12.0,
    "output_tokens_mean": 3.0,
    "infer_tokens_per_second": 100.0,
    "trainable_params": 4096,
    "total_params": 135000,
    "trainable_share": 0.03,
    "adapter_bytes": 20000,
    "weights_mb": 0.5,
    "compute_dtype": "float32",
    "inference_mode": "generate",
    "trained_tokens": 500,
    "train_tokens_per_second": 40.0,
    "retrieval_k": 3,
    "retrieval_hit_at_k": None,  # a variant kind's own figures, between the shared ones
    "train_computed_tokens": 450,
    "train_flops": 1e9,
    "infer_flops": 2e8,
    "train_peak_flops_per_second": 1e11,
    "infer_peak_flops_per_second": 1e11,
    "train_utilisation": 0.001,
    "infer_utilisation": None,
    "price_per_hour": None,
    "usd": None,
}
FINISHED = {
    "name": "lora",
    "kind": "lora",
    "status": "ok",
    "reason": None,
    "config": {"name": "lora", "kind": "lora", "r": 4},
    "training_config": {"epochs": 1},
    "seed": 11,
    "n_items": 2,
    "metrics": {"accuracy": {"value": 0.5, "ci_low": 0.09, "ci_high": 0.91, "n": 2, "method": "wilson"}},
    "cost": COST,
    "training": {"seconds": 12.5, "steps": 3, "loss_curve": [{"step": 1, "loss": 2.0}]},
    "probes": None,
    "merge_check": None,
    "variability": None,
    "key": "abc",
    "reused": False,
}
FAILED = {
    "name": "full",
    "kind": "full",
    "status": "failed",
    "reason": "RuntimeError: out of memory",
    "config": {"name": "full", "kind": "full"},
    "metrics": None,
    "cost": {},
    "training": None,
    "traceback": "Traceback ...",
    "key": "def",
    "reused": True,
}
SKIPPED = {
    "name": "qlora",
    "kind": "qlora",
    "status": "skipped",
    "reason": "needs CUDA",
    "config": {},
    "metrics": None,
    "cost": {},
    "training": None,
    "key": "ghi",
}
ROWS = [
    {
        "variant": "lora",
        "item_id": "t-1",
        "item_hash": "h1",
        "prompt_hash": "p1",
        "raw_output": "kind: alpha",
        "parsed": "alpha",
        "gold": "alpha",
        "correct": True,
        "format_ok": True,
        "prompt_tokens": 40,
        "output_tokens": 3,
        "latency_s": 0.0123,
    },
    # extraction: the task's own fields sit between format_ok and prompt_tokens
    {
        "variant": "lora",
        "item_id": "t-2",
        "item_hash": "h2",
        "prompt_hash": "p2",
        "raw_output": '{"a": ["1"]}',
        "parsed": {"a": ["1"]},
        "gold": {"a": ["2"]},
        "format_ok": True,
        "parse_ok": True,
        "correct": False,
        "wrong_fields": ["a"],
        "field_counts": {"a": [0, 1, 1]},
        "prompt_tokens": 41,
        "output_tokens": 9,
        "latency_s": 0.5,
    },
    # generation
    {
        "variant": "zero-shot",
        "item_id": "t-1",
        "item_hash": "h1",
        "prompt_hash": "p1",
        "raw_output": "Pay 5 EUR.",
        "parsed": "Pay 5 EUR.",
        "gold": "Pay 5 EUR now.",
        "format_ok": True,
        "correct": True,
        "rouge_l": 0.857,
        "chrf": 0.7,
        "words": 3,
        "constraints": {"max_words": True},
        "prompt_tokens": 30,
        "output_tokens": 5,
        "latency_s": 0.1,
    },
]
MANIFEST = {
    "schema_version": 1,
    "bench_version": "0.1.0",
    "created": "2026-01-01T00:00:00+00:00",
    "suite": {"name": "demo", "path": "suites/demo.yaml", "sha256": "s" * 64},
    "resolved_config": {"name": "demo", "seed": 7, "base_model": {"name": "tiny"}, "gate": {}},
    "data": {"test": {"path": "test.jsonl", "sha256": "t" * 64, "items": 2, "labels": {"alpha": 2}}},
    "seeds": {"suite": 7, "variants": {"lora": 11}},
    "packages": {"torch": "2.0", "lm_eval": None},
    "git_commit": None,
    "machine": {"cpu": "x", "gpu": None},
    "status": "complete",
    "stages": {"total": 1.5},
}
PROBES = {
    "arith": {
        "metric": "acc",
        "base": 0.5,
        "status": "ok",
        "reason": None,
        "variants": {
            "lora": {
                "score": 0.4,
                "delta": -0.1,
                "ci_low": -0.2,
                "ci_high": 0.0,
                "verdict": "same",
                "n": 40,
                "adapter_applied": True,
            }
        },
    }
}
RESULTS = {
    "schema_version": 1,
    "suite": MANIFEST["suite"],
    "task": {"type": "classification", "labels": ["alpha"], "n_test_items": 2},
    "variants": {"lora": FINISHED, "full": FAILED, "qlora": SKIPPED},
    "probes": PROBES,
}


def as_written(data) -> str:
    return json.dumps(data, indent=2)


# ----------------------------------------------------------------------------- exact round trips
@pytest.mark.parametrize(
    "cls, data",
    [
        (Cost, COST),
        (Cost, {}),
        (VariantResult, FINISHED),
        (VariantResult, FAILED),
        (VariantResult, SKIPPED),
        (Manifest, MANIFEST),
        (Manifest, {"status": "running", "git_commit": None, "schema_version": 1}),  # another order
        (Manifest, {**MANIFEST, "status": "interrupted", "finished_variants": ["lora"], "from_the_future": {"x": 1}}),
        (Results, RESULTS),
        (Results, {"variants": {}, "schema_version": 1}),
        *[(SampleRow, row) for row in ROWS],
    ],
)
def test_a_record_writes_back_exactly_what_it_read(cls, data):
    record = cls.from_json(json.loads(json.dumps(data)))
    assert as_written(record.to_json()) == as_written(data)
    assert list(record) == list(data) and dict(record.items()).keys() == data.keys()


def test_absent_keys_read_as_none_and_stay_absent_while_nulls_stay_null():
    result = VariantResult.from_json(SKIPPED)
    assert result.training_config is None and "training_config" not in result and result.get("seed", 3) == 3
    assert result.training is None and "training" in result and result["training"] is None
    with pytest.raises(KeyError):
        result["probes"]


def test_a_field_set_after_reading_is_written_after_the_keys_read():
    stored = VariantResult.from_json({k: v for k, v in FINISHED.items() if k != "reused"})
    assert list(stored.replace(reused=True).to_json())[-2:] == ["key", "reused"]


def test_records_built_in_code_have_todays_layouts():
    cost = Cost.from_json(COST)
    finished = (
        VariantResult.finished(
            name="lora",
            kind="lora",
            config=FINISHED["config"],
            training_config={"epochs": 1},
            seed=11,
            n_items=2,
            metrics=FINISHED["metrics"],
            cost=cost,
            training=FINISHED["training"],
            probes=None,
            merge_check=None,
            variability=None,
        )
        .replace(key="abc")
        .replace(reused=False)
    )
    assert as_written(finished.to_json()) == as_written(FINISHED)
    failed = VariantResult.not_run(
        name="full",
        kind="full",
        status="failed",
        reason="RuntimeError: out of memory",
        config={"name": "full", "kind": "full"},
        traceback="Traceback ...",
    )
    assert as_written(failed.replace(key="def", reused=True).to_json()) == as_written(FAILED)
    skipped = VariantResult.not_run(name="qlora", kind="qlora", status="skipped", reason="needs CUDA", config={})
    assert as_written(skipped.replace(key="ghi").to_json()) == as_written(SKIPPED)
    assert Manifest(schema_version=1, git_commit=None, status="running").to_json() == {
        "schema_version": 1,
        "git_commit": None,
        "status": "running",
    }  # a commit that is not there is written as null


def test_a_sample_row_built_from_a_task_score_keeps_the_tasks_fields_in_place():
    score = {
        k: ROWS[1][k] for k in ("parsed", "gold", "format_ok", "parse_ok", "correct", "wrong_fields", "field_counts")
    }
    row = SampleRow.scored(
        variant="lora",
        item_id="t-2",
        item_hash="h2",
        prompt_hash="p2",
        raw_output=ROWS[1]["raw_output"],
        score=score,
        prompt_tokens=41,
        output_tokens=9,
        latency_s=0.5,
    )
    assert as_written(row.to_json()) == as_written(ROWS[1])
    assert row.correct is False and row["field_counts"] == {"a": [0, 1, 1]} and row.extra["parse_ok"] is True
    assert row.outcome(("parse_ok", "rouge_l")) == {
        "item_id": "t-2",
        "item_hash": "h2",
        "gold": {"a": ["2"]},
        "parsed": {"a": ["1"]},
        "correct": False,
        "format_ok": True,
        "parse_ok": True,
    }


def test_cost_is_typed_and_says_whether_format_was_measured():
    cost = Cost.from_json(COST)
    assert cost.train_seconds == 12.5 and cost.extra == {"retrieval_k": 3, "retrieval_hit_at_k": None}
    assert cost.format_measured and not Cost.from_json({**COST, "inference_mode": "rank"}).format_measured
    assert Cost.from_json({}).format_measured  # records older than rank mode generated their answers
    assert cost.compute_seconds == 12.5 + 4.25 and cost.run_seconds == 13.0 + 4.25 + 0.0
    assert {**cost}["retrieval_k"] == 3 and not Cost()  # an empty cost record is empty, as {} was


def test_results_find_variants_and_say_what_there_is():
    results = Results.from_json(RESULTS)
    assert isinstance(results.variants["lora"].cost, Cost) and results.ok_variants == ["lora"]
    assert results.task_type == "classification" and Results.from_json({"variants": {}}).task_type == "classification"
    assert results.probes_of("lora")["arith"] == {"base": 0.5, **PROBES["arith"]["variants"]["lora"]}
    with pytest.raises(BenchError, match="no variant 'lora-r8'; did you mean 'lora'") as err:
        results.variant("lora-r8", run="r")
    assert "lora, full, qlora" in err.value.hint
    with pytest.raises(BenchError, match=r"variant 'full' did not finish in run r \(status failed: RuntimeError"):
        results.finished_variant("full", run="r", hint="why")


def test_probes_read_for_display_accept_the_shapes_runs_wrote():
    probes, raw = read_probes(PROBES)
    assert raw is None and probes[0].base == 0.5 and probes[0].deltas["lora"]["value"] == 0.4
    assert forgetting_of(PROBES, "lora") == [
        {"task": "arith", "metric": "acc", "base": 0.5, "delta": -0.1, "ci_low": -0.2, "ci_high": 0.0, "value": 0.4}
    ]
    assert forgetting_of(PROBES, "zero-shot") is None and read_probes({"odd": 1}) == ([], '{\n  "odd": 1\n}')


# ----------------------------------------------------------------------------- the writer and the reader
def write_folder(path: Path, *, test_file: Path | None = None) -> Path:
    manifest = dict(MANIFEST)
    if test_file is not None:
        manifest["data"] = {
            "test": {"path": str(test_file), "sha256": hashlib.sha256(test_file.read_bytes()).hexdigest()}
        }
    write_json(path / "manifest.json", manifest)
    write_json(path / "results.json", RESULTS)
    write_jsonl(path / "samples.jsonl", ROWS)
    return path


def test_the_writer_writes_the_bytes_bench_wrote_before(tmp_path):
    before = write_folder(tmp_path / "before")
    after = tmp_path / "after"
    run = read_run(before)
    write_manifest(after, run.manifest)
    write_results(after, run.results)
    write_samples(after, run.samples)
    write_variant(after / "entry", FINISHED, ROWS[:2])  # JSON objects are accepted too, read into the record
    for name in ("manifest.json", "results.json", "samples.jsonl"):
        assert (after / name).read_bytes() == (before / name).read_bytes(), name
    assert (after / "entry" / "result.json").read_text() == as_written(FINISHED) + "\n"
    assert read_variant_result(after / "entry") == VariantResult.from_json(FINISHED)
    assert read_variant_result(tmp_path) is None and read_samples(after / "entry" / "samples.jsonl") == [
        SampleRow.from_json(r) for r in ROWS[:2]
    ]


def test_record_stages_adds_the_reports_seconds_to_the_manifest(tmp_path):
    run_dir = write_folder(tmp_path / "r")
    record_stages(run_dir, {"total": 2.0, "report": 0.5})
    assert json.loads((run_dir / "manifest.json").read_text()) == {**MANIFEST, "stages": {"total": 2.0, "report": 0.5}}


def test_read_run_gives_the_typed_run(tmp_path):
    test_file = tmp_path / "test.jsonl"
    write_jsonl(
        test_file,
        [
            {
                "id": "t-1",
                "messages": [{"role": "user", "content": "Text one"}, {"role": "assistant", "content": "kind: alpha"}],
            },
            {"messages": [{"role": "user", "content": "No id"}, {"role": "assistant", "content": "x"}]},
        ],
    )
    run = read_run(write_folder(tmp_path / "r", test_file=test_file))
    assert isinstance(run, RunRecord) and run.suite_name == "demo" and run.seed == 7 and run.labels == ["alpha"]
    assert run.result("full").status == "failed" and run.ok_variants == ["lora"]
    assert list(run.samples_of("lora")) == ["t-1", "t-2"] and [r.item_id for r in run.rows("zero-shot")] == ["t-1"]
    assert run.inputs == {"t-1": "Text one", "test-2": "No id"} and run.inputs_note is None
    test_file.write_text("changed\n")
    assert read_run(tmp_path / "r").inputs_note == f"the test file {test_file} has changed since the run"
    test_file.unlink()
    assert read_run(tmp_path / "r").inputs == {}


def test_a_missing_or_damaged_run_folder_is_an_error_that_names_the_file(tmp_path):
    with pytest.raises(BenchError, match="run folder not found"):
        read_run(tmp_path / "nowhere")
    (tmp_path / "half").mkdir()
    with pytest.raises(BenchError, match="manifest.json is missing: .* is not a finished bench run folder"):
        read_run(tmp_path / "half")
    run_dir = write_folder(tmp_path / "r")
    (run_dir / "results.json").write_text('{"variants": {')
    with pytest.raises(BenchError, match=r"results.json is not valid JSON \(Expecting .*, line 1\)"):
        read_run(run_dir)
    (run_dir / "results.json").write_text('{"task": {}}')
    with pytest.raises(BenchError, match="does not look like bench results"):
        read_run(run_dir)
    (run_dir / "results.json").write_text('{"variants": {"lora": {"name": "lora", "cost": [1]}}}')
    with pytest.raises(BenchError, match="results.json is not in the shape bench writes"):
        read_run(run_dir)
    write_json(run_dir / "results.json", RESULTS)
    (run_dir / "samples.jsonl").write_text(json.dumps(ROWS[0]) + "\n{oops\n")
    with pytest.raises(BenchError, match=r"samples.jsonl:2 is not a sample row"):
        read_run(run_dir)
    (run_dir / "samples.jsonl").unlink()
    run = read_run(run_dir)  # a report can do without per-item rows; a comparison cannot
    assert run.samples is None and run.samples_of("lora") == {}
    with pytest.raises(BenchError, match="samples.jsonl is missing"):
        run.rows("lora")


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Cost().usd = 1.0  # type: ignore[misc]
