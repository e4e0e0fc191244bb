"""The classical baselines as variants: fitted on the suite's train split, scored on the same test items.

The tiny suite's notes name their label's word ("apples" is alpha), so a TF-IDF
model must get every test item right, while the tiny random language model
gets next to none: exactly the case where bench must show the cheap baseline.
"""

from __future__ import annotations

import pytest

from harness.core.files import read_json, read_jsonl
from harness.run.recipe import run_suite

CLASSICAL = """\
  - name: tfidf
    kind: tfidf
  - name: embed-base
    kind: embedding_classifier
    encoder: base_model
"""


@pytest.fixture
def run_dir(tiny_suite):
    text = tiny_suite.read_text()
    tiny_suite.write_text(text[: text.index("variants:\n")] + "variants:\n  - name: zero-shot\n    kind: zero_shot\n"
                          + CLASSICAL)
    return run_suite(tiny_suite, tiny_suite.parent / "run").run_dir


def test_tfidf_learns_the_signature_words_and_answers_in_the_task_format(run_dir):
    results = read_json(run_dir / "results.json")
    tfidf = results["variants"]["tfidf"]
    assert tfidf["status"] == "ok" and tfidf["metrics"]["accuracy"]["value"] == 1.0
    rows = [r for r in read_jsonl(run_dir / "samples.jsonl") if r["variant"] == "tfidf"]
    assert len(rows) == results["task"]["n_test_items"]
    assert all(r["raw_output"] == f"kind: {r['parsed']}" and r["correct"] for r in rows)


def test_classical_cost_records_fit_time_size_and_no_language_model_work(run_dir):
    for name in ("tfidf", "embed-base"):
        record = read_json(run_dir / "results.json")["variants"][name]
        cost = record["cost"]
        assert record["status"] == "ok", record.get("reason")
        assert cost["inference_mode"] == "classical"  # format compliance: not applicable
        assert cost["train_seconds"] > 0 and cost["adapter_bytes"] > 0 and cost["trainable_params"] > 0
        assert cost["trained_tokens"] == 0 and cost["output_tokens_mean"] == 0
        assert record["probes"] is None  # the language model did not change
        fit = record["training"]["classical"]
        assert fit["selection"] == "validation" and fit["validation_items"] == 6
        saved = run_dir / "variants" / name / "classical"
        assert sum(f.stat().st_size for f in saved.iterdir()) == cost["adapter_bytes"]
        assert not [f for f in saved.rglob("*") if f.suffix in (".pkl", ".pickle", ".joblib")]


def test_a_classical_variant_can_be_the_gate_baseline(run_dir, tmp_path):
    from harness.gate.baseline import save_baseline
    from harness.gate.evaluate import gate_run

    baseline = tmp_path / "baseline.json"
    save_baseline(run_dir, variant="tfidf", out=baseline)
    outcome = gate_run(run_dir, baseline, variant="tfidf", junit_path=tmp_path / "j.xml", markdown_path=tmp_path / "s.md")
    assert outcome.verdict == "pass" and outcome.exit_code == 0
    worse = gate_run(run_dir, baseline, variant="zero-shot", junit_path=tmp_path / "j2.xml",
                     markdown_path=tmp_path / "s2.md")
    assert worse.exit_code == 1  # the tiny LLM against a perfect classical baseline: a regression
