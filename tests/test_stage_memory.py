"""Peak memory per stage in the manifest (issue 22, item 1): where a run's memory goes, not only its high-water mark."""

from __future__ import annotations

import functools
import weakref

from harness.core.files import read_json
from harness.records.manifest import Manifest
from harness.run.recipe import run_suite, variant_peak_rss


def test_a_run_records_peak_memory_for_every_stage_it_computed(tiny_suite, tmp_path):
    # The merge check predicts again with a second, merged model: its own stage, recheck (LoRA merges, a prompt cannot).
    tiny_suite.write_text(
        tiny_suite.read_text().replace("  max_new_tokens: 6\n", "  max_new_tokens: 6\n  merge_check: true\n")
    )
    first = run_suite(tiny_suite, tmp_path / "run1", only=["zero-shot", "lora"])
    manifest = Manifest.from_json(read_json(first.run_dir / "manifest.json"))
    memory = manifest.stage_peak_rss_mb
    expected = {"load_data", "load_model", "base_probes"} | {
        f"variant:{name}:{stage}" for name in ("zero-shot", "lora") for stage in ("prepare", "predict")
    }
    assert expected | {"variant:lora:recheck"} <= set(memory), sorted(memory)
    assert "variant:zero-shot:recheck" not in memory  # nothing was checked again, so no stage to report
    assert all(isinstance(mb, float) and mb > 0 for mb in memory.values()), memory
    # The model is loaded before any variant runs and stays loaded: no later stage peaks below the load.
    assert all(memory[f"variant:lora:{stage}"] >= memory["load_data"] for stage in ("prepare", "predict"))
    # The variant's own cost record carries the same figures, and its overall peak is the larger of them.
    cost = first.results["variants"]["lora"]["cost"]
    assert cost["peak_rss_mb"] == max(cost["prepare_peak_rss_mb"], cost["infer_peak_rss_mb"])
    assert memory["variant:lora:predict"] == cost["infer_peak_rss_mb"]

    # A rerun reuses both variants: their memory was measured then, not now, so it is not this run's.
    second = run_suite(tiny_suite, tmp_path / "run2", only=["zero-shot", "lora"])
    assert all(v["reused"] for v in second.results["variants"].values())
    memory = read_json(second.run_dir / "manifest.json")["stage_peak_rss_mb"]
    assert {"load_data", "load_model", "base_probes"} == set(memory)


def test_variant_stages_come_from_the_cost_record_and_skip_what_was_not_measured():
    record = {
        "name": "lora",
        "cost": {"prepare_peak_rss_mb": 900.0, "infer_peak_rss_mb": 950.0, "probe_peak_rss_mb": None},
    }
    assert variant_peak_rss(record) == {"variant:lora:prepare": 900.0, "variant:lora:predict": 950.0}
    assert variant_peak_rss({"name": "failed", "cost": {}}) == {}


def test_a_variant_leaves_nothing_loaded_for_the_variants_after_it(tiny_suite, tmp_path, monkeypatch):
    """The embedding classifier's MiniLM (about 90 MB resident) is freed before the next variant runs,
    not carried through every later stage (LoRA training's peak included)."""
    from harness.retrieval import dense
    from harness.variants.prompt import ZeroShot

    loaded = []  # a weak reference to each MiniLM loaded: it says whether the model is still alive
    load = dense.encoder.__wrapped__

    @functools.lru_cache(maxsize=1)
    def recording_encoder():
        model = load()
        loaded.append(weakref.ref(model))
        return model

    alive_when_zero_shot_ran = []
    prepare = ZeroShot.prepare

    def recording_prepare(self, workdir):
        alive_when_zero_shot_ran.append([ref() is not None for ref in loaded])
        return prepare(self, workdir)

    monkeypatch.setattr(dense, "encoder", recording_encoder)
    monkeypatch.setattr(ZeroShot, "prepare", recording_prepare)
    variants = "variants:\n  - {name: embeddings, kind: embedding_classifier, encoder: minilm}\n"
    variants += "  - {name: zero-shot, kind: zero_shot}\n"
    tiny_suite.write_text(tiny_suite.read_text().split("variants:\n")[0] + variants)
    results = run_suite(tiny_suite, tmp_path / "run").results["variants"]

    assert results["embeddings"]["status"] == "ok", results["embeddings"]["reason"]
    assert alive_when_zero_shot_ran == [[False]]  # loaded once, and gone before the next variant started
