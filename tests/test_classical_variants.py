"""The classical baselines as variants: fitted on the suite's train split, scored on the same test items.

The tiny suite's notes name their label's word ("apples" is alpha), so a TF-IDF
model must get every test item right, while the tiny random language model
gets next to none: exactly the case where bench must show the cheap baseline.
"""

from __future__ import annotations

import pytest
from conftest import TINY_SUITE, make_items, write_jsonl

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl
from harness.run.recipe import run_suite

CLASSICAL = """\
  - name: tfidf
    kind: tfidf
  - name: embed-base
    kind: embedding_classifier
    encoder: base_model
"""


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir, tmp_path_factory):
    """One run for every test here: zero-shot and the two classical kinds on the tiny suite."""
    root = tmp_path_factory.mktemp("classical")
    write_jsonl(root / "data" / "train.jsonl", make_items("train", 12))
    write_jsonl(root / "data" / "validation.jsonl", make_items("val", 6, start=100))
    write_jsonl(root / "data" / "test.jsonl", make_items("test", 9, start=200))
    text = TINY_SUITE.format(model=tiny_model_dir)
    suite = root / "tiny.yaml"
    suite.write_text(
        text[: text.index("variants:\n")] + "variants:\n  - name: zero-shot\n    kind: zero_shot\n" + CLASSICAL
    )
    return run_suite(suite, root / "run").run_dir


@pytest.fixture(scope="module")
def tfidf_package(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("packages") / "tfidf"
    assert main(["package", str(run_dir), "--variant", "tfidf", "--out", str(out)]) == 0
    return out


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
    outcome = gate_run(
        run_dir, baseline, variant="tfidf", junit_path=tmp_path / "j.xml", markdown_path=tmp_path / "s.md"
    )
    assert outcome.verdict == "pass" and outcome.exit_code == 0
    worse = gate_run(
        run_dir, baseline, variant="zero-shot", junit_path=tmp_path / "j2.xml", markdown_path=tmp_path / "s2.md"
    )
    assert worse.exit_code == 1  # the tiny LLM against a perfect classical baseline: a regression


def test_the_report_shows_the_classical_rows_and_recommends_the_baseline_that_beats_the_llm(run_dir):
    from harness.report import write_report
    from harness.report.build import build_view

    view = build_view(run_dir)
    tfidf = view.variant("tfidf")
    assert tfidf.classical and tfidf.format_note == "not applicable (classical)"
    assert "tfidf" not in [v.name for v in view.trained_variants]  # no loss curve to draw
    rec = view.recommendation
    # tfidf is perfect and the tiny LLM near zero: a classical baseline is the pick, and it says what the LLM adds.
    assert rec.pick in ("tfidf", "embed-base") and rec.headline.startswith(f"Ship {rec.pick}")
    assert "The best LLM variant, zero-shot, is" in rec.headline and "× the compute" in rec.headline
    assert not any("Forgetting" in c for c in rec.caveats)  # no language model changed
    page = write_report(run_dir).read_text()
    assert 'data-variant="tfidf"' in page and 'data-variant="embed-base"' in page
    assert "not applicable (classical)" in page.split('data-variant="tfidf"')[1].split("</tr>")[0]  # not 100%
    summary = (run_dir / "summary.md").read_text()
    assert "not applicable (classical)" in summary


def test_a_classical_package_holds_the_model_arrays_a_card_and_no_pickle(tfidf_package, run_dir):
    files = sorted(p.name for p in tfidf_package.iterdir())
    assert files == ["README.md", "bench_package.json", "classical.json", "model.safetensors"]
    meta = read_json(tfidf_package / "bench_package.json")
    assert meta["format"] == "classical" and meta["variant"]["kind"] == "tfidf"
    assert meta["base_model"]["name"] is None and meta["base_model"]["used"] is False
    assert meta["classical"]["fit"]["selection"] == "validation" and meta["prompt"]["answer_format"] == "kind: {label}"
    assert meta["evaluation"]["metrics"]["accuracy"]["value"] == 1.0 and meta["risks"]["observed"]
    assert set(meta["files"]) == {"classical.json", "model.safetensors"}
    card = (tfidf_package / "README.md").read_text()
    assert "no language model is needed" in card and "PeftModel" not in card and "bench serve --adapter tfidf=" in card
    assert (
        main(["package", str(run_dir), "--variant", "tfidf", "--out", str(tfidf_package.parent / "m"), "--merged"]) == 2
    )  # nothing to merge


def test_a_classical_package_with_a_planted_pickle_is_refused_by_name(tfidf_package, tmp_path):
    import shutil

    from harness.serve.classical import load_classical

    planted = tmp_path / "planted"
    shutil.copytree(tfidf_package, planted)
    (planted / "model.pkl").write_bytes(b"\x80\x04N.")  # pickle of None: harmless, and never opened
    with pytest.raises(BenchError, match=r"model\.pkl"):
        load_classical("tfidf", planted)


def test_serve_answers_a_chat_request_with_the_classical_label_and_loads_no_base(tfidf_package):
    from fastapi.testclient import TestClient

    from harness.serve.adapters import AdapterRegistry
    from harness.serve.app import create_app

    registry = AdapterRegistry.load(None, "", {"legal-tfidf": tfidf_package})
    client = TestClient(create_app(registry))
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["legal-tfidf"]
    messages = [
        {"role": "system", "content": "Classify the note."},
        {"role": "user", "content": "Note 301: a short text about clouds number 4."},
    ]
    reply = client.post("/v1/chat/completions", json={"model": "legal-tfidf", "messages": messages})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["choices"][0]["message"]["content"] == "kind: gamma" and body["usage"]["total_tokens"] == 0
    assert client.post("/v1/chat/completions", json={"model": "tiny", "messages": messages}).status_code == 404
    assert client.get("/health").json()["base_model"] is None
