"""Training seeds as an axis (docs/suites.md, "Seeds"): members per seed, their mean, reuse, bounds, statistics."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from harness.core.files import read_json, read_jsonl
from harness.run.recipe import run_suite
from harness.stats import additive, intervals
from harness.stats import seeds as seed_stats

MEMBERS = ["lora-seed1", "lora-seed2"]


def with_suite_seeds(suite, text: str):
    suite.write_text(suite.read_text().replace("seed: 7\n", f"seed: 7\n{text}\n", 1))
    return suite


def with_lora_seeds(suite, value: str):
    suite.write_text(suite.read_text().replace("    r: 4\n", f"    r: 4\n    seeds: {value}\n", 1))
    return suite


def adapter_bytes(run_dir, name: str) -> bytes:
    files = sorted((run_dir / "variants" / name / "adapter").rglob("*.safetensors"))
    assert files, f"{name} saved no adapter weights"
    return b"".join(f.read_bytes() for f in files)


def test_two_seeds_train_two_members_and_the_variant_is_their_mean(tiny_suite, tmp_path):
    suite = with_suite_seeds(tiny_suite, "seeds: 2")
    first = run_suite(suite, tmp_path / "run1", only=["zero-shot", "lora"])
    run, results = first.run_dir, first.results["variants"]
    # The seeded variant where the suite put it, its members after it; the prompt variant once, unchanged.
    assert list(results) == ["zero-shot", "lora", *MEMBERS]
    assert results["zero-shot"].get("seeds") is None and results["zero-shot"].get("member_of") is None
    assert [results[m]["member_of"] for m in MEMBERS] == ["lora", "lora"]
    lora = results["lora"]
    assert lora["seeds"] == [{"seed": 1, "variant": "lora-seed1"}, {"seed": 2, "variant": "lora-seed2"}]
    # Each member trained with its own seed: its own training seed, its own adapter weights.
    assert results["lora-seed1"]["seed"] != results["lora-seed2"]["seed"]
    assert adapter_bytes(run, "lora-seed1") != adapter_bytes(run, "lora-seed2")
    for metric in ("accuracy", "macro_f1", "format_compliance"):
        per_seed = [results[m]["metrics"][metric]["value"] for m in MEMBERS]
        m = lora["metrics"][metric]
        assert m["per_seed"] == pytest.approx(per_seed)
        assert m["value"] == pytest.approx(statistics.fmean(per_seed))
        assert m["sd_between_seeds"] == pytest.approx(statistics.stdev(per_seed))
        assert m["ci_low"] <= m["value"] <= m["ci_high"] and m["seeds"] == 2
        assert "two-level-bootstrap" in m["method"]
    # Rows: one per item for every variant, the aggregate's are its first seed's answers under its own name.
    rows = read_jsonl(run / "samples.jsonl")
    assert sorted({r["variant"] for r in rows}) == sorted(["zero-shot", "lora", *MEMBERS])
    lora_rows = [(r["item_id"], r["raw_output"]) for r in rows if r["variant"] == "lora"]
    seed1_rows = [(r["item_id"], r["raw_output"]) for r in rows if r["variant"] == "lora-seed1"]
    assert lora_rows == seed1_rows and len(lora_rows) == 9
    assert read_json(run / "variants" / "lora" / "result.json")["seeds"] == lora["seeds"]
    assert read_json(run / "manifest.json")["seeds"]["members"] == {"lora": MEMBERS}

    # A rerun finds every seed in the store by its content key and trains nothing.
    second = run_suite(suite, tmp_path / "run2", only=["zero-shot", "lora"]).results["variants"]
    assert all(second[name]["reused"] for name in ["zero-shot", *MEMBERS])
    assert second["lora"]["metrics"] == lora["metrics"]

    # A baseline saved from the seeded variant holds one run per seed; the gate measures their spread.
    from harness.cli.main import main

    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "save", str(run), "--variant", "lora", "--out", str(baseline)]) == 0
    saved = read_json(baseline)
    assert len(saved["runs"]) == 2
    assert main(["gate", str(tmp_path / "run2"), "--baseline", str(baseline), "--variant", "lora"]) == 0


def test_command_line_seeds_override_a_variants_own(tiny_suite, tmp_path):
    from harness.cli.main import main

    suite = with_lora_seeds(tiny_suite, "2")
    assert main(["run", str(suite), "--out", str(tmp_path / "run"), "--only", "lora", "--seeds", "1"]) == 0
    results = read_json(tmp_path / "run" / "results.json")["variants"]
    assert list(results) == ["lora"] and "seeds" not in results["lora"]  # one seed: exactly as before seeds
    assert read_json(tmp_path / "run" / "manifest.json")["resolved_config"]["seeds"] == 1


def test_one_seed_keeps_the_variants_content_key(tiny_suite):
    """seeds: 1 written out is the default: the same key fields, so results stored before seeds existed are reused."""
    from harness.suite import load_suite
    from harness.variants.base import variant_configs

    plain = load_suite(tiny_suite, variant_configs()).spec.variants[-1]
    explicit = load_suite(with_lora_seeds(tiny_suite, "1"), variant_configs()).spec.variants[-1]
    assert explicit.seeds == 1 and plain.seeds is None
    assert plain.key_fields() == explicit.key_fields() and "seeds" not in plain.key_fields()


BAD = [("suite", v) for v in ("0", "-1", "1.5", "x", "21", "true")] + [("variant", v) for v in ("0", "1.5")]


@pytest.mark.parametrize(("where", "value"), BAD)
def test_a_bad_seed_count_is_a_one_line_error_with_its_line(tiny_suite, capsys, value, where):
    from harness.cli.main import main

    suite = with_suite_seeds(tiny_suite, f"seeds: {value}") if where == "suite" else with_lora_seeds(tiny_suite, value)
    line = next(i for i, text in enumerate(suite.read_text().splitlines(), 1) if f"seeds: {value}" in text)
    assert main(["validate", str(suite)]) == 2
    err = capsys.readouterr()
    text = err.out + err.err
    field = "seeds" if where == "suite" else "variants[2].seeds"
    problems = [ln for ln in text.splitlines() if f":{line}" in ln]
    assert len(problems) == 1 and field in problems[0] and "tiny.yaml" in problems[0], text


def test_a_prompt_variant_takes_no_seeds(tiny_suite, capsys):
    from harness.cli.main import main

    text = tiny_suite.read_text().replace("    kind: zero_shot\n", "    kind: zero_shot\n    seeds: 2\n", 1)
    tiny_suite.write_text(text)
    assert main(["validate", str(tiny_suite)]) == 2
    assert "unknown key 'seeds'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "21"])
def test_a_bad_seeds_flag_exits_2(tiny_suite, tmp_path, capsys, value):
    from harness.cli.main import main

    assert main(["run", str(tiny_suite), "--out", str(tmp_path / "run"), "--seeds", value]) == 2
    assert "--seeds" in capsys.readouterr().err


# -- planning and gathering, without a model -------------------------------------------------------------


def test_only_trained_kinds_get_members_and_a_clash_of_names_is_an_error():
    from harness.core.errors import BenchError
    from harness.run.seeds import plan
    from harness.variants.base import variant_configs, variant_kinds

    configs = variant_configs()
    zero, tfidf = configs["zero_shot"](name="zero-shot", kind="zero_shot"), configs["tfidf"](name="tf", kind="tfidf")
    lora = configs["lora"](name="lora", kind="lora", seeds=3)
    to_run, seeded = plan([zero, tfidf, lora], variant_kinds(), suite_seeds=2, override=None)
    assert [c.name for c in to_run] == ["zero-shot", "tf", "lora-seed1", "lora-seed2", "lora-seed3"]
    assert [s.name for s in seeded] == ["lora"] and all(c.seeds is None for _, c in seeded[0].members)
    to_run, _ = plan([zero, lora], variant_kinds(), suite_seeds=2, override=1)
    assert [c.name for c in to_run] == ["zero-shot", "lora"]
    clash = configs["lora"](name="lora-seed2", kind="lora")
    with pytest.raises(BenchError, match="lora-seed2"):
        plan([lora, clash], variant_kinds(), suite_seeds=1, override=None)


def test_a_failed_seed_fails_its_variant_and_keeps_the_other_seeds():
    from harness.run.seeds import gather, plan
    from harness.variants.base import variant_configs, variant_kinds

    lora = variant_configs()["lora"](name="lora", kind="lora", seeds=2)
    _, seeded = plan([lora], variant_kinds(), suite_seeds=1, override=None)
    ok = {"name": "lora-seed1", "kind": "lora", "status": "ok", "metrics": {}, "cost": {}, "key": "a"}
    failed = {"name": "lora-seed2", "kind": "lora", "status": "failed", "reason": "RuntimeError: boom", "key": "b"}
    records, rows = gather(seeded, [ok, failed], {"lora-seed1": [], "lora-seed2": []}, ("classification", ()), hash)
    assert [(r["name"], r["status"], r.get("member_of")) for r in records] == [
        ("lora", "failed", None),
        ("lora-seed1", "ok", "lora"),
        ("lora-seed2", "failed", "lora"),
    ]
    assert "lora-seed2 failed: RuntimeError: boom" in records[0]["reason"] and rows["lora"] == []


# -- the statistics --------------------------------------------------------------------------------


def shares(*rates: float, n: int = 60) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [additive.mean_parts(rng.random(n) < rate) for rate in rates]


def test_one_seed_is_the_item_bootstrap():
    (only,) = shares(0.6)
    one = seed_stats.over_seeds([only], additive.mean_from_sums, seed=5)
    items = intervals.resampled(only, additive.mean_from_sums, seed=5)
    assert (one["value"], one["ci_low"], one["ci_high"]) == (items["value"], items["ci_low"], items["ci_high"])
    assert one["sd_between_seeds"] is None


def test_seed_spread_widens_the_interval():
    """Seeds that disagree as a whole (0.4 against 0.8) give a wider interval than seeds that agree."""
    agree = seed_stats.over_seeds(shares(0.6, 0.6, 0.6), additive.mean_from_sums, seed=1)
    spread = seed_stats.over_seeds(shares(0.4, 0.6, 0.8), additive.mean_from_sums, seed=1)
    assert spread["sd_between_seeds"] > 0.1 > agree["sd_between_seeds"]
    assert spread["ci_high"] - spread["ci_low"] > 1.3 * (agree["ci_high"] - agree["ci_low"])


def test_paired_over_seeds_uses_every_seed_and_matches_the_paired_bootstrap_at_one_seed():
    a, b = shares(0.5, 0.8)
    assert seed_stats.paired_over_seeds([a], [b], additive.mean_from_sums, seed=2) == pytest.approx(
        intervals.paired_delta(a, b, additive.mean_from_sums, seed=2)
    )
    first, second = shares(0.5, 0.55), shares(0.7, 0.9)
    delta, low, high = seed_stats.paired_over_seeds(first, second, additive.mean_from_sums, seed=2)
    means = [np.mean([p[:, 0].mean() for p in side]) for side in (first, second)]
    assert delta == pytest.approx(means[1] - means[0]) and low <= delta <= high


# -- the report ------------------------------------------------------------------------------------


def seeded_run(path):
    """A synthetic run (tests/test_report.py's writer) whose LoRA variants were trained with two seeds each,
    gathered by the run's own code: lora-r4 and lora-r16 apart by less than their seed spread, lora-r64 far above."""
    import sys
    from pathlib import Path

    from harness.core.files import write_json, write_jsonl
    from harness.run.seeds import SeededVariant, gather
    from harness.variants.lora import LoraVariantConfig

    sys.path.insert(0, str(Path(__file__).parent))
    from test_report import LABELS, synthetic_run

    shares = {"lora-r4": (0.70, 0.80), "lora-r16": (0.78, 0.72), "lora-r64": (0.97, 0.98)}
    members = [
        (f"{name}-seed{k}", "lora", right, 1.0, 30.0, 4)
        for name, rights in shares.items()
        for k, right in ((1, rights[0]), (2, rights[1]))
    ]
    synthetic_run(
        path, variants=[("zero-shot", "zero_shot", 0.40, 0.70, 0.0, None), *members], probes=False, failed=False
    )
    results = read_json(path / "results.json")
    records = list(results["variants"].values())
    rows = {}
    for row in read_jsonl(path / "samples.jsonl"):
        rows.setdefault(row["variant"], []).append(row)
    seeded = []
    for name in shares:
        config = LoraVariantConfig(name=name, kind="lora", r=4, seeds=2)
        pairs = tuple((k, config.model_copy(update={"name": f"{name}-seed{k}", "seeds": None})) for k in (1, 2))
        seeded.append(SeededVariant(name=name, config=config, members=pairs))
    with_seeds, rows = gather(seeded, records, rows, ("classification", LABELS), lambda name: 11)
    results["variants"] = {r["name"]: r for r in with_seeds}
    write_json(path / "results.json", results)
    write_jsonl(path / "samples.jsonl", [row for r in with_seeds for row in rows[r["name"]]])
    return path


def test_report_shows_each_seed_and_says_when_a_ranking_is_within_seed_noise(tmp_path):
    from harness.report import write_report
    from harness.report.build import build_view

    run = seeded_run(tmp_path / "run")
    view = build_view(run)
    assert [v.name for v in view.variants] == ["zero-shot", "lora-r4", "lora-r16", "lora-r64"]  # members: rows below
    r4 = next(s for s in view.seeds.variants if s.name == "lora-r4")
    assert [(row.seed, row.variant) for row in r4.rows] == [(1, "lora-r4-seed1"), (2, "lora-r4-seed2")]
    assert r4.mean["value"] == pytest.approx(statistics.fmean(row.metric["value"] for row in r4.rows))
    notes = " ".join(view.seeds.notes)
    assert "lora-r4" in notes and "the ranking is not established" in notes
    assert "lora-r64 ranks above lora-r16" in notes and "beyond seed noise" in notes
    # Paired comparisons of seeded variants use every seed: the delta is the difference of the seed means.
    delta = view.variant("lora-r64").vs_base.headline.value
    base = view.variant("zero-shot").metric("macro_f1")["value"]
    assert delta == pytest.approx(view.variant("lora-r64").metric("macro_f1")["value"] - base)
    write_report(run)
    html = (run / "report.html").read_text()
    assert 'id="seeds"' in html and 'id="seeds-lora-r4"' in html and "lora-r4-seed2" in html
    assert "between-seed SD" in html
    summary = (run / "summary.md").read_text()
    assert "over 2 seeds" in summary and "ranking is not established" in summary


def test_terminal_summary_shows_a_seeded_variant_once_with_its_seed_count(tmp_path, capsys):
    from harness.cli.main import print_summary
    from harness.core.files import read_json

    print_summary(read_json(seeded_run(tmp_path / "run") / "results.json"))
    table = capsys.readouterr().out
    assert "lora-r4 " in table and "(2 seeds)" in table
    assert "seed1" not in table and "seed2" not in table  # members are in the report's seeds section
