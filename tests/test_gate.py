"""bench gate and bench baseline: exact verdicts on synthetic per-item results, files CI reads, the CLI.

Run folders here are written by hand (manifest, results, samples), so every
count is known and every verdict and p-value can be stated exactly. One test at
the end makes a real run on the tiny model and gates it.
"""

from __future__ import annotations

import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console
from scipy.stats import beta

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.gate.baseline import load_baseline, save_baseline
from harness.gate.evaluate import decide, gate_run
from harness.gate.pairing import pair_items
from harness.gate.rules import Check
from harness.gate.summary import print_outcome
from harness.stats.intervals import proportion
from harness.suite.gate_rules import GateSpec
from harness.variants.base import variant_configs

LABELS = ["alpha", "beta", "gamma"]
TEST_SHA = "a" * 64


def item_rows(
    correct: list[bool],
    format_ok: list[bool] | None = None,
    *,
    variant: str = "lora",
    hashes: dict[int, str] | None = None,
    ids: list[str] | None = None,
) -> list[dict]:
    rows = []
    for i, ok in enumerate(correct):
        gold = LABELS[i % 3]
        rows.append(
            {
                "variant": variant,
                "item_id": ids[i] if ids else f"t-{i}",
                "item_hash": (hashes or {}).get(i, f"h{i}"),
                "prompt_hash": "p",
                "raw_output": "",
                "parsed": gold if ok else LABELS[(i + 1) % 3],
                "gold": gold,
                "correct": ok,
                "format_ok": True if format_ok is None else format_ok[i],
            }
        )
    return rows


def write_run(
    folder: Path,
    correct: list[bool],
    *,
    format_ok: list[bool] | None = None,
    gate: dict | None = None,
    test_sha: str = TEST_SHA,
    cost: dict | None = None,
    probes: dict | None = None,
    hashes: dict[int, str] | None = None,
    ids: list[str] | None = None,
    variants: tuple[str, ...] = ("lora",),
    status: str = "ok",
) -> Path:
    """A finished run folder with the given per-item results (the same for every variant)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(correct)
    suite = {"name": "demo", "path": "suites/demo.yaml", "sha256": "s" * 64}
    manifest = {
        "schema_version": 1,
        "suite": suite,
        "resolved_config": {"name": "demo", "seed": 3, "gate": gate or {}},
        "data": {"test": {"path": "test.jsonl", "sha256": test_sha, "items": n}},
        "git_commit": "abc123",
        "status": "complete",
    }
    samples, records = [], {}
    for variant in variants:
        rows = item_rows(correct, format_ok, variant=variant, hashes=hashes, ids=ids)
        samples += rows
        records[variant] = {
            "name": variant,
            "kind": "lora",
            "status": status,
            "reason": None if status == "ok" else "boom",
            "metrics": {
                "accuracy": proportion(sum(correct), n),
                "format_compliance": proportion(sum(r["format_ok"] for r in rows), n),
            },
            "cost": cost if cost is not None else {"train_seconds": 30.0, "peak_rss_mb": 900.0, "peak_cuda_mb": None},
            "key": f"key-{variant}",
            "n_items": n,
        }
    results = {
        "schema_version": 1,
        "suite": suite,
        "task": {"type": "classification", "labels": LABELS, "n_test_items": n},
        "variants": records,
    }
    if probes is not None:
        results["probes"] = probes
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in samples))
    return folder


def flipped(base: list[bool], down: int, up: int) -> list[bool]:
    """The baseline's outcomes with ``down`` right answers turned wrong and ``up`` wrong ones turned right."""
    run = list(base)
    rights = [i for i, ok in enumerate(base) if ok]
    wrongs = [i for i, ok in enumerate(base) if not ok]
    for i in rights[:down]:
        run[i] = False
    for i in wrongs[:up]:
        run[i] = True
    return run


BASE = [True] * 240 + [False] * 60  # 80% on 300 items


@pytest.fixture
def baseline_file(tmp_path) -> Path:
    path, _ = save_baseline(write_run(tmp_path / "base-run", BASE), "lora", tmp_path / "baselines" / "demo.json")
    return path


def gate(tmp_path, run_correct, baseline_file, name="run", **kwargs):
    run_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k not in ("variant", "allow_changed_data")}
    run_dir = write_run(tmp_path / name, run_correct, **run_kwargs)
    return gate_run(run_dir, baseline_file, **kwargs)


# ----------------------------------------------------------------------------- baselines
def test_baseline_holds_items_fingerprint_metrics_and_manifest(baseline_file):
    baseline = load_baseline(baseline_file)
    assert baseline["schema_version"] == 2 and baseline["kind"] == "bench-baseline"
    assert baseline["variant"] == "lora" and baseline["suite"]["name"] == "demo"
    assert baseline["test_data"]["sha256"] == TEST_SHA
    assert len(baseline["items"]) == 300
    assert baseline["items"][0] == {
        "item_id": "t-0",
        "item_hash": "h0",
        "gold": "alpha",
        "parsed": "alpha",
        "correct": True,
        "format_ok": True,
    }
    assert baseline["metrics"]["accuracy"]["value"] == 0.8
    assert baseline["manifest"]["git_commit"] == "abc123"
    assert baseline["cost"]["train_seconds"] == 30.0


def test_baseline_needs_a_variant_when_the_run_has_several(tmp_path):
    run = write_run(tmp_path / "r", BASE, variants=("zero-shot", "lora"))
    with pytest.raises(BenchError, match="2 finished variants") as err:
        save_baseline(run, None, tmp_path / "b.json")
    assert "zero-shot, lora" in err.value.hint


def test_baseline_of_a_failed_variant_is_refused(tmp_path):
    with pytest.raises(BenchError, match="did not finish"):
        save_baseline(write_run(tmp_path / "r", BASE, status="failed"), "lora", tmp_path / "b.json")


def test_load_baseline_refuses_other_files_and_versions(tmp_path):
    other = tmp_path / "x.json"
    other.write_text(json.dumps({"kind": "something"}))
    with pytest.raises(BenchError, match="not a bench baseline"):
        load_baseline(other)
    other.write_text(json.dumps({"kind": "bench-baseline", "schema_version": 99}))
    with pytest.raises(BenchError, match="schema_version 99"):
        load_baseline(other)


# ----------------------------------------------------------------------------- verdicts, default rules
def test_same_results_pass(tmp_path, baseline_file):
    outcome = gate(tmp_path, BASE, baseline_file)
    assert (outcome.verdict, outcome.exit_code) == ("pass", 0)
    [check] = outcome.checks
    assert (check.rule, check.verdict, check.p_value, check.delta) == ("allowed_drop.accuracy", "pass", 1.0, 0.0)
    assert outcome.comparison["shared_items"] == 300


def test_six_point_drop_fails_naming_metric_delta_interval_and_p_value(tmp_path, baseline_file):
    outcome = gate(tmp_path, flipped(BASE, down=20, up=2), baseline_file)
    assert (outcome.verdict, outcome.exit_code) == ("fail", 1)
    [check] = outcome.failures
    assert check.verdict == "fail"
    assert check.delta == pytest.approx(-0.06)
    assert check.p_value == pytest.approx(254 / 2**22)
    # At margin 0 the interval is the exact test's own: Clopper-Pearson on 20 of 22 discordant, times 22/300.
    cp_low, cp_high = beta.ppf(0.01, 20, 3), beta.ppf(0.99, 21, 2)
    expected = (-(22 / 300) * (2 * cp_high - 1), -(22 / 300) * (2 * cp_low - 1))
    assert (check.ci_low, check.ci_high) == pytest.approx(expected, abs=1e-9)
    assert check.message == (
        "accuracy fell 6.0 pts vs baseline (80.0% -> 74.0%), more than the allowed 0.0 pts: change -6.0 pts, "
        "98% CI [-7.2, -2.5] pts, p = 6.1e-05 (McNemar exact (22 discordant)), n = 300 shared items"
    )


def test_noise_both_ways_passes(tmp_path, baseline_file):
    outcome = gate(tmp_path, flipped(BASE, down=5, up=5), baseline_file)
    assert (outcome.verdict, outcome.exit_code) == ("pass", 0)
    assert outcome.comparison["accuracy_discordant"] == {"baseline_only_right": 5, "run_only_right": 5}


@pytest.mark.parametrize(
    "policy, verdict, exit_code", [("warn", "inconclusive", 0), ("pass", "pass", 0), ("fail", "fail", 1)]
)
def test_small_drop_is_inconclusive_and_the_suite_decides(tmp_path, baseline_file, policy, verdict, exit_code):
    outcome = gate(tmp_path, flipped(BASE, down=6, up=2), baseline_file, gate={"inconclusive": policy})
    assert outcome.checks[0].verdict == "inconclusive"
    assert outcome.checks[0].p_value == pytest.approx(37 / 256)
    assert (outcome.verdict, outcome.exit_code) == (verdict, exit_code)


def test_allowed_drop_of_two_points(tmp_path, baseline_file):
    rules = {"allowed_drop": {"accuracy": 0.02}}
    big = gate(tmp_path, flipped(BASE, down=20, up=2), baseline_file, gate=rules, name="big")
    assert big.checks[0].verdict == "fail" and big.exit_code == 1
    assert big.checks[0].p_value == pytest.approx(0.0053162, rel=1e-4)  # Tango at (20 - 1/2, 2 + 1/2)
    assert big.checks[0].method == "Tango score test, continuity corrected, margin 0.02"
    middling = gate(tmp_path, flipped(BASE, down=10, up=2), baseline_file, gate=rules, name="middling")
    assert middling.checks[0].verdict == "inconclusive" and middling.exit_code == 0  # 2.7 pts, not significant
    within = gate(tmp_path, flipped(BASE, down=7, up=2), baseline_file, gate=rules, name="within")
    assert within.checks[0].verdict == "pass"  # 1.7 pts: inside the allowance


def test_minimum_detectable_drop_is_reported(tmp_path, baseline_file):
    outcome = gate(tmp_path, flipped(BASE, down=8, up=7), baseline_file)
    assert outcome.comparison["accuracy_mdd"] == pytest.approx(0.049841, abs=1e-5)  # 15 of 300 discordant
    text = Path(outcome.files["markdown"]).read_text()
    assert "Minimum detectable accuracy drop: 5.0 pts at alpha 0.01 (one-sided) and 80% power" in text


# ----------------------------------------------------------------------------- floors, macro-F1
def test_format_floor(tmp_path, baseline_file):
    rules = {"floors": {"format_compliance": 0.98}}
    low = gate(tmp_path, BASE, baseline_file, gate=rules, format_ok=[True] * 280 + [False] * 20, name="low")
    floor = next(c for c in low.checks if c.rule == "floors.format_compliance")
    assert floor.verdict == "fail" and low.exit_code == 1
    assert floor.p_value == pytest.approx(3.75123e-06, rel=1e-4)
    near = gate(tmp_path, BASE, baseline_file, gate=rules, format_ok=[True] * 290 + [False] * 10, name="near")
    assert next(c for c in near.checks if c.kind == "floor").verdict == "inconclusive" and near.exit_code == 0
    fine = gate(tmp_path, BASE, baseline_file, gate=rules, name="fine")
    assert [c.verdict for c in fine.checks] == ["pass", "pass"]


def test_macro_f1_drop_uses_paired_resampling(tmp_path, baseline_file):
    rules = {"allowed_drop": {"macro_f1": 0.0}}
    same = gate(tmp_path, BASE, baseline_file, gate=rules, name="same")
    assert same.checks[0].verdict == "pass" and same.checks[0].p_value == 1.0
    worse = gate(tmp_path, flipped(BASE, down=30, up=0), baseline_file, gate=rules, name="worse")
    check = worse.checks[0]
    assert check.method == "paired permutation test, 4000 swaps"
    assert check.verdict == "fail" and check.p_value == pytest.approx(1 / 4001) and check.delta < -0.09
    again = gate(tmp_path, flipped(BASE, down=30, up=0), baseline_file, gate=rules, name="again")
    assert again.checks[0] == check  # seeded by the suite seed and the rule: same figures every time


def test_a_rule_on_a_metric_the_task_type_lacks_is_a_config_error(tmp_path, baseline_file):
    run = write_run(tmp_path / "r", BASE, gate={"allowed_drop": {"macro_f1": 0.0}})
    results = json.loads((run / "results.json").read_text())
    results["task"] = {"type": "extraction", "labels": None, "n_test_items": 300}
    (run / "results.json").write_text(json.dumps(results))
    baseline = json.loads(baseline_file.read_text())
    baseline["task"]["labels"] = None
    baseline_file.write_text(json.dumps(baseline))
    with pytest.raises(BenchError, match="macro_f1 rule, but extraction tasks do not measure macro_f1") as err:
        gate_run(run, baseline_file)
    assert "field_f1_micro" in err.value.hint


# ----------------------------------------------------------------------------- forgetting and cost
def probe(base: float, score: float, half_width: float) -> dict:
    delta = score - base
    return {
        "base": base,
        "variants": {
            "lora": {
                "score": score,
                "delta": delta,
                "ci_low": delta - half_width,
                "ci_high": delta + half_width,
                "n": 200,
            }
        },
    }


def test_forgetting_limits(tmp_path, baseline_file):
    probes = {
        "bench_world": probe(0.60, 0.50, 0.04),
        "bench_math": probe(0.60, 0.53, 0.04),
        "bench_logic": probe(0.60, 0.58, 0.04),
    }
    rules = {"forgetting": {"bench_world": 0.05, "*": 0.05}, "family_control": "none"}  # each probe at alpha
    outcome = gate(tmp_path, BASE, baseline_file, gate=rules, probes=probes)
    verdicts = {c.rule: c.verdict for c in outcome.checks if c.kind == "forgetting"}
    assert verdicts == {
        "forgetting.bench_world": "fail",
        "forgetting.bench_math": "inconclusive",
        "forgetting.bench_logic": "pass",
    }
    world = next(c for c in outcome.checks if c.rule == "forgetting.bench_world")
    # se = 0.08 / (2 * 1.96) = 0.0204; z = (0.10 - 0.05) / se = 2.45
    assert world.p_value == pytest.approx(0.0071, abs=2e-4)
    assert outcome.exit_code == 1


def test_forgetting_limit_on_an_unknown_probe_is_a_config_error(tmp_path, baseline_file):
    with pytest.raises(BenchError, match="did you mean 'bench_world'"):
        gate(
            tmp_path,
            BASE,
            baseline_file,
            gate={"forgetting": {"bench_wrld": 0.05}},
            probes={"bench_world": probe(0.6, 0.6, 0.02)},
        )


def test_forgetting_without_probe_results_is_skipped(tmp_path, baseline_file):
    outcome = gate(tmp_path, BASE, baseline_file, gate={"forgetting": {"bench_world": 0.05}})
    [check] = [c for c in outcome.checks if c.kind == "forgetting"]
    assert check.verdict == "skipped" and "no probe results" in check.message
    assert outcome.exit_code == 0


def test_cost_limits(tmp_path, baseline_file):
    rules = {"cost_limits": {"train_seconds": 60, "peak_rss_mb": 800, "peak_cuda_mb": 1000}}
    outcome = gate(
        tmp_path,
        BASE,
        baseline_file,
        gate=rules,
        cost={"train_seconds": 45.0, "peak_rss_mb": 1200.0, "peak_cuda_mb": None},
    )
    verdicts = {c.rule: c.verdict for c in outcome.checks if c.kind == "cost"}
    assert verdicts == {
        "cost_limits.train_seconds": "pass",
        "cost_limits.peak_rss_mb": "fail",
        "cost_limits.peak_cuda_mb": "skipped",
    }
    rss = next(c for c in outcome.checks if c.rule == "cost_limits.peak_rss_mb")
    assert rss.message == "peak_rss_mb 1200 MB is over the limit of 800 MB (baseline 900 MB)"
    assert outcome.exit_code == 1


# ----------------------------------------------------------------------------- data changes and pairing
def test_pairing_matches_id_and_content_hash():
    base = item_rows([True, True, False, True])
    run = item_rows([True, False, False], hashes={1: "edited"}) + item_rows([True], ids=["t-new"])
    pairing = pair_items(base, run)
    assert pairing.shared == 2  # t-0 and t-2; t-1 changed its text, t-3 is gone, t-new is new
    assert (pairing.changed, pairing.only_baseline, pairing.only_run) == (["t-1"], ["t-3"], ["t-new"])
    assert not pairing.complete


def test_changed_test_set_is_an_error_unless_allowed(tmp_path, baseline_file):
    changed = dict(test_sha="b" * 64, hashes={i: f"edited-{i}" for i in range(10)})
    with pytest.raises(BenchError, match="test set changed") as err:
        gate(tmp_path, BASE, baseline_file, name="refused", **changed)
    assert "290 items unchanged, 10 changed" in str(err.value) and "--allow-changed-data" in err.value.hint
    outcome = gate(tmp_path, BASE, baseline_file, name="allowed", allow_changed_data=True, **changed)
    assert outcome.comparison["shared_items"] == 290 and outcome.comparison["changed_items"] == 10
    assert outcome.notes and "compared only the unchanged items" in outcome.notes[0]
    assert "test set changed" in Path(outcome.files["markdown"]).read_text()


def test_changed_test_set_exits_2_from_the_cli(tmp_path, baseline_file):
    run = write_run(tmp_path / "r", BASE, test_sha="c" * 64)
    assert main(["gate", str(run), "--baseline", str(baseline_file)]) == 2
    assert main(["gate", str(run), "--baseline", str(baseline_file), "--allow-changed-data"]) == 0


# ----------------------------------------------------------------------------- usage errors
def test_missing_baseline_hints_at_baseline_save(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = write_run(tmp_path / "r", BASE)
    with pytest.raises(BenchError, match="no baseline at baselines/demo.json") as err:
        gate_run(run)
    assert err.value.hint.startswith(f"save one from a run you trust: bench baseline save {run} --variant")
    assert main(["gate", str(run)]) == 2


def test_default_baseline_path_and_variant(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_run(tmp_path / "base", BASE, variants=("zero-shot", "lora"))
    assert main(["baseline", "save", "base", "--variant", "lora"]) == 0
    assert load_baseline(tmp_path / "baselines" / "demo.json")["variant"] == "lora"
    run = write_run(tmp_path / "r", flipped(BASE, 20, 2), variants=("zero-shot", "lora"))
    assert main(["gate", str(run)]) == 1  # compares lora, the baseline's variant
    assert main(["gate", str(run), "--variant", "lora-r16"]) == 2
    with pytest.raises(BenchError, match="no variant 'lora-r16'; did you mean 'lora'"):
        gate_run(run, variant="lora-r16")


def test_failed_variant_cannot_be_gated(tmp_path, baseline_file):
    run = write_run(tmp_path / "r", BASE, status="failed")
    with pytest.raises(BenchError, match="did not finish"):
        gate_run(run, baseline_file)


def test_baseline_of_another_suite_is_refused(tmp_path, baseline_file):
    data = json.loads(baseline_file.read_text())
    data["suite"]["name"] = "other"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    with pytest.raises(BenchError, match="for suite 'other'"):
        gate_run(write_run(tmp_path / "r", BASE), other)


def test_not_a_run_folder(tmp_path):
    assert main(["gate", str(tmp_path / "nowhere")]) == 2
    (tmp_path / "half").mkdir()
    with pytest.raises(BenchError, match="manifest.json is missing"):
        gate_run(tmp_path / "half")


# ----------------------------------------------------------------------------- the suite's gate: section
def write_suite(tmp_path, gate_yaml: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    line = json.dumps(
        {"id": "x", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "alpha"}]}
    )
    (data / "test.jsonl").write_text(line + "\n")
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "schema_version: 1\nname: s\ntask:\n  type: classification\n  labels: [alpha, beta]\n"
        "  data:\n    test: data/test.jsonl\nbase_model:\n  name: tiny\n"
        "variants:\n  - name: zs\n    kind: zero_shot\n" + gate_yaml
    )
    return suite


def test_suite_gate_section_is_typed_with_defaults(tmp_path):
    from harness.suite import load_suite

    spec = load_suite(write_suite(tmp_path, ""), variant_configs()).spec.gate
    assert isinstance(spec, GateSpec)
    assert (spec.alpha, spec.inconclusive, spec.drop_limits("classification")) == (0.01, "warn", [("accuracy", 0.0)])
    assert spec.allowed_drop is None  # the task type's defaults, chosen when the gate knows the task
    assert spec.drop_limits("extraction") == [("field_f1_micro", 0.0), ("format_compliance", 0.0)]
    assert spec.drop_limits("generation") == [("accuracy", 0.0), ("format_compliance", 0.0)]
    spec = load_suite(
        write_suite(tmp_path, "gate:\n  allowed_drop:\n    macro_f1: 0.03\n  floors:\n    format_compliance: 0.98\n"),
        variant_configs(),
    ).spec.gate
    assert spec.drop_limits("classification") == [("macro_f1", 0.03)]  # writing allowed_drop replaces the default
    assert spec.floors.limits() == [("format_compliance", 0.98)]


@pytest.mark.parametrize(
    "gate_yaml, line, expected",
    [
        (
            "gate:\n  allowed_drops:\n    accuracy: 0.02\n",
            14,
            "gate.allowed_drops: unknown key 'allowed_drops'; did you mean 'allowed_drop'?",
        ),
        (
            "gate:\n  allowed_drop:\n    acuracy: 0.02\n",
            15,
            "gate.allowed_drop.acuracy: unknown key 'acuracy'; did you mean 'accuracy'?",
        ),
        ("gate:\n  inconclusive: maybe\n", 14, "gate.inconclusive: Input should be 'pass', 'warn' or 'fail'"),
        ("gate:\n  forgetting:\n    bench_world: 5\n", 14, "forgetting limits are shares between 0 and 1"),
        ("gate:\n  cost_limits:\n    train_secs: 60\n", 15, "did you mean 'train_seconds'?"),
    ],
)
def test_suite_gate_typos_are_errors_with_a_line(tmp_path, gate_yaml, line, expected):
    from harness.suite import load_suite

    with pytest.raises(BenchError) as err:
        load_suite(write_suite(tmp_path, gate_yaml), variant_configs())
    assert f"s.yaml:{line}: " in str(err.value) and expected in str(err.value)


# ----------------------------------------------------------------------------- what CI reads
def test_junit_has_one_testcase_per_rule_and_a_failure_with_the_figures(tmp_path, baseline_file):
    rules = {
        "floors": {"format_compliance": 0.98},
        "cost_limits": {"peak_cuda_mb": 100},
        "allowed_drop": {"accuracy": 0.0},
    }
    run = write_run(tmp_path / "r", flipped(BASE, down=20, up=2), gate=rules)
    junit = tmp_path / "out" / "gate.xml"
    assert (
        main(
            [
                "gate",
                str(run),
                "--baseline",
                str(baseline_file),
                "--junit",
                str(junit),
                "--markdown",
                str(tmp_path / "out" / "gate.md"),
            ]
        )
        == 1
    )
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["floors.format_compliance", "allowed_drop.accuracy", "cost_limits.peak_cuda_mb"]
    failure = cases["allowed_drop.accuracy"].find("failure")
    assert failure.get("type") == "regression"
    assert "accuracy fell 6.0 pts" in failure.get("message") and "p = 6.1e-05" in failure.get("message")
    assert "98% CI [-7.2, -2.5] pts" in failure.get("message")
    assert "baseline: 0.8\nrun: 0.74\ndelta: -0.06" in failure.text
    assert cases["cost_limits.peak_cuda_mb"].find("skipped") is not None
    assert cases["floors.format_compliance"].find("failure") is None


def test_markdown_summary_table(tmp_path, baseline_file):
    outcome = gate(tmp_path, flipped(BASE, down=20, up=2), baseline_file)
    text = Path(outcome.files["markdown"]).read_text()
    assert text.startswith("## bench gate: FAIL (regression) - suite demo, variant lora\n")
    assert "| rule | verdict | baseline | run | change | limit | interval | p | test |" in text
    assert (
        "| allowed_drop.accuracy | fail | 80.0% | 74.0% | -6.0 pts | drop <= 0.0 pts | 98% [-7.2, -2.5] pts "
        "| 6.1e-05 | McNemar exact (22 discordant) |"
    ) in text
    assert "### Regressions" in text
    assert json.loads(Path(outcome.files["outcome"]).read_text())["exit_code"] == 1


def test_the_console_table_is_not_folded_when_the_output_is_a_log(tmp_path, baseline_file):
    # A CI log is not a terminal: rich would size it at 80 columns and fold every cell.
    outcome = gate(tmp_path, flipped(BASE, down=20, up=2), baseline_file)
    log = io.StringIO()
    print_outcome(outcome, Console(file=log, width=80))
    text = log.getvalue()
    row = next(line for line in text.splitlines() if "allowed_drop.accuracy" in line)
    assert "McNemar exact (22 discordant)" in row and "-6.0 pts" in row
    assert max(len(line) for line in text.splitlines()) > 80


def test_decide():
    def check(verdict):
        return Check(rule="r", kind="drop", subject="accuracy", verdict=verdict, message="")

    assert decide([check("pass"), check("skipped")], "warn") == ("pass", 0)
    assert decide([check("pass"), check("inconclusive")], "warn") == ("inconclusive", 0)
    assert decide([check("inconclusive")], "fail") == ("fail", 1)
    assert decide([check("fail"), check("inconclusive")], "pass") == ("fail", 1)
    assert decide([], "warn") == ("pass", 0)


# ----------------------------------------------------------------------------- a real run
def test_real_run_baseline_then_gate(tiny_suite, tmp_path):
    """Save a baseline from a real run; the same run passes; a better baseline turns it into a regression."""
    from harness.run.recipe import run_suite

    run_dir = run_suite(tiny_suite, tmp_path / "run").run_dir
    path, baseline = save_baseline(run_dir, "few-shot", tmp_path / "baselines" / "tiny.json")
    assert len(baseline["items"]) == 9 and baseline["test_data"]["sha256"]
    assert baseline["manifest"]["resolved_config"]["gate"]["alpha"] == 0.01

    assert main(["gate", str(run_dir), "--baseline", str(path)]) == 0
    assert (run_dir / "gate" / "junit.xml").exists() and (run_dir / "gate" / "summary.md").exists()

    # The tiny random model answers nothing right. A baseline that answered all 9 items right
    # makes the same run 9 discordant pairs worse: exact McNemar p = 0.5^9 < 0.01.
    assert sum(row["correct"] for row in baseline["items"]) == 0
    better = json.loads(path.read_text())
    for row in better["items"]:
        row.update(correct=True, parsed=row["gold"], format_ok=True)
    better_path = tmp_path / "baselines" / "better.json"
    better_path.write_text(json.dumps(better))
    outcome = gate_run(run_dir, better_path)
    assert (outcome.verdict, outcome.exit_code) == ("fail", 1)
    [check] = outcome.failures
    assert check.p_value == pytest.approx(0.5**9) and check.delta == pytest.approx(-1.0)
    shutil.rmtree(run_dir / "gate")
    assert main(["gate", str(run_dir), "--baseline", str(better_path)]) == 1


# ----------------------------------------------------------------------------- issue 17: statistical bugs
def as_generation(folder: Path, rouge: list[float]) -> Path:
    """Turn a hand-written run into a generation run whose items carry these ROUGE-L scores."""
    results = json.loads((folder / "results.json").read_text())
    results["task"] = {"type": "generation", "labels": None, "n_test_items": len(rouge)}
    (folder / "results.json").write_text(json.dumps(results))
    rows = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    for row, score in zip(rows, rouge):
        row["rouge_l"] = score
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))  # NaN is written as NaN
    return folder


def test_a_nan_score_is_an_error_with_exit_2_never_a_pass(tmp_path):
    rules = {"allowed_drop": {"rouge_l": 0.0}}
    base = as_generation(write_run(tmp_path / "base", [True] * 50, gate=rules), [0.8] * 50)
    path, _ = save_baseline(base, "lora", tmp_path / "b.json")
    # ROUGE-L falls from 0.8 to 0.1 on 50 items, and one item's score is NaN: this passed before.
    run = as_generation(write_run(tmp_path / "run", [True] * 50, gate=rules), [0.1] * 49 + [float("nan")])
    with pytest.raises(BenchError, match=r"samples.jsonl \(variant lora\): items\[49\] \(item t-49\)\.rouge_l is nan"):
        gate_run(run, path)
    assert main(["gate", str(run), "--baseline", str(path)]) == 2
    # The same in the baseline, named by its file and row.
    baseline = json.loads(path.read_text())
    baseline["items"][3]["rouge_l"] = float("inf")
    path.write_text(json.dumps(baseline))
    clean = as_generation(write_run(tmp_path / "clean", [True] * 50, gate=rules), [0.1] * 50)
    with pytest.raises(BenchError, match=r"b\.json: items\[3\] \(item t-3\)\.rouge_l is inf"):
        gate_run(clean, path)


def test_a_non_finite_estimate_is_an_error_in_the_rule_itself():
    from harness.gate import rules
    from harness.gate.pairing import ItemOutcomes, Pairing

    def side(scores):
        rows = [{"item_id": str(i), "correct": True, "format_ok": True, "rouge_l": s} for i, s in enumerate(scores)]
        return ItemOutcomes.from_rows(rows)

    pairing = Pairing(side([0.8] * 50), side([0.1] * 49 + [float("nan")]), 50, 50)
    with pytest.raises(BenchError, match="allowed_drop.rouge_l: .*nan is not a finite number"):
        rules.check_drop("rouge_l", 0.0, pairing, [], alpha=0.01, seed=0)
    # macro-F1 with no labels at all is undefined, not 0 and not a pass
    no_labels = Pairing(*(ItemOutcomes.from_rows(item_rows(BASE[:30])) for _ in range(2)), 30, 30)
    with pytest.raises(BenchError, match="allowed_drop.macro_f1"):
        rules.check_drop("macro_f1", 0.0, no_labels, [], alpha=0.01, seed=0)


def test_perfect_macro_f1_with_one_item_labels_meets_a_floor_just_below_it(tmp_path):
    """Ten labels with one item each, every answer right: the floor rule failed a 99.44% run against 99.64%."""
    from harness.gate import rules
    from harness.gate.pairing import ItemOutcomes

    labels = [f"rare{k}" for k in range(10)] + ["common"]
    gold = labels[:10] + ["common"] * 90
    run = ItemOutcomes.from_rows(
        [{"item_id": str(i), "gold": g, "parsed": g, "correct": True, "format_ok": True} for i, g in enumerate(gold)]
    )
    check = rules.check_floor("macro_f1", 0.9964, run, labels, alpha=0.01, seed=0)
    assert check.run == 1.0 and check.ci_high == 1.0 and check.ci_low == 1.0  # every resample is perfect too
    assert check.verdict == "pass"


def test_four_lost_none_gained_of_100_on_a_probe_is_not_worse():
    from harness.gate.rules import check_forgetting
    from harness.probes.compare import verdict
    from harness.stats import intervals

    base, variant = [1.0] * 4 + [1.0] * 60 + [0.0] * 36, [0.0] * 4 + [1.0] * 60 + [0.0] * 36
    delta, low, high = intervals.paired_mean_delta(base, variant, seed=0)
    assert delta == pytest.approx(-0.04) and low < 0 < high  # the exact sign test: p = 0.125
    assert verdict(low, high) == "inconclusive"
    assert "Tango" in intervals.paired_mean_method(base, variant)
    entry = {"score": 0.60, "base": 0.64, "delta": delta, "ci_low": low, "ci_high": high, "n": 100}
    assert check_forgetting("p", 0.0, entry, alpha=0.01).verdict == "inconclusive"


def test_holm_across_the_rules_of_one_gate_and_the_switch_to_turn_it_off(tmp_path, baseline_file):
    # Four forgetting rules, each alone significant at 0.01 (p = 0.0071), plus the default accuracy rule.
    probes = {f"bench_{k}": probe(0.60, 0.50, 0.04) for k in range(4)}
    rules = {"forgetting": {"*": 0.05}}
    held = gate(tmp_path, BASE, baseline_file, gate=rules, probes=probes, name="holm")
    forgetting = [c for c in held.checks if c.kind == "forgetting"]
    assert held.family == 5 and held.family_control == "holm"
    assert [c.verdict for c in forgetting] == ["inconclusive"] * 4  # Holm: 5 x 0.0071 > 0.01
    assert all(c.p_adjusted == pytest.approx(5 * 0.0071, abs=1e-3) and c.family == 5 for c in forgetting)
    assert "not significant once adjusted for the 5 statistical rules" in forgetting[0].message
    summary = Path(held.files["markdown"]).read_text()
    assert "The 5 statistical rules are one family, tested one-sided with Holm's procedure" in summary
    run_dir = tmp_path / "holm"
    assert main(["gate", str(run_dir), "--baseline", str(baseline_file)]) == 0
    assert main(["gate", str(run_dir), "--baseline", str(baseline_file), "--no-family-control"]) == 1
    off = gate(tmp_path, BASE, baseline_file, gate={**rules, "family_control": "none"}, probes=probes, name="off")
    assert [c.verdict for c in off.checks if c.kind == "forgetting"] == ["fail"] * 4 and off.exit_code == 1
    # A regression that clears the adjusted level still fails.
    big = gate(tmp_path, flipped(BASE, down=20, up=2), baseline_file, gate=rules, probes=probes, name="big")
    assert big.checks[0].verdict == "fail" and big.exit_code == 1


# ----------------------------------------------------------------------------- issue 17: baselines of several runs
def three_run_baseline(tmp_path, gate_rules: dict | None = None) -> Path:
    """Three reruns that differ as a whole: 80%, 77% and 83% on the same 300 items."""
    dirs = [
        write_run(tmp_path / f"base-{k}", correct, gate=gate_rules)
        for k, correct in enumerate([BASE, flipped(BASE, down=9, up=0), flipped(BASE, down=0, up=9)])
    ]
    path, baseline = save_baseline(dirs, "lora", tmp_path / "baselines" / "three.json")
    assert baseline["schema_version"] == 2 and len(baseline["runs"]) == 3
    assert [sum(r["correct"] for r in run["items"]) for run in baseline["runs"]] == [240, 231, 249]
    assert baseline["items"] == baseline["runs"][0]["items"]
    return path


def test_a_baseline_of_several_runs_adds_their_variance_to_the_drop(tmp_path, baseline_file):
    three = three_run_baseline(tmp_path)
    four_down = flipped(BASE, down=12, up=0)  # 76%: 4 points under the first run, 1 under the second
    one = gate(tmp_path, four_down, baseline_file, name="vs-one")
    assert one.checks[0].verdict == "fail"  # 12 lost, 0 gained: exact p = 0.5^12 against one run
    assert any("the baseline holds one run" in note for note in one.notes)
    several = gate(tmp_path, four_down, three, name="vs-three")
    check = several.checks[0]
    assert check.verdict == "inconclusive" and several.exit_code == 0  # within what reruns do
    assert check.baseline == pytest.approx(0.80) and check.between_run_sd == pytest.approx(0.03, abs=0.005)
    assert check.method.startswith("prediction t test against 3 baseline runs")
    assert several.comparison["baseline_runs"] == 3
    assert "baseline of K = 3 runs" in Path(several.files["markdown"]).read_text()
    assert not any("the baseline holds one run" in note for note in several.notes)
    collapse = gate(tmp_path, flipped(BASE, down=100, up=0), three, name="collapse")
    assert collapse.checks[0].verdict == "fail" and collapse.exit_code == 1  # far beyond run-to-run noise


def test_cli_saves_several_runs_and_a_suite_can_require_k(tmp_path, baseline_file):
    dirs = [write_run(tmp_path / f"r{k}", BASE, gate={"min_baseline_runs": 3}) for k in range(3)]
    out = tmp_path / "b3.json"
    assert main(["baseline", "save", *map(str, dirs), "--variant", "lora", "--out", str(out)]) == 0
    assert len(load_baseline(out)["runs"]) == 3
    assert main(["gate", str(dirs[0]), "--baseline", str(out)]) == 0
    with pytest.raises(BenchError, match=r"saved from 1 run\(s\); the suite's gate asks for at least 3"):
        gate_run(dirs[0], baseline_file)
    assert main(["gate", str(dirs[0]), "--baseline", str(baseline_file)]) == 2
    other = write_run(tmp_path / "other", BASE, test_sha="b" * 64)
    with pytest.raises(BenchError, match="is not a rerun of"):
        save_baseline([dirs[0], other], "lora", tmp_path / "bad.json")


def test_schema_1_baselines_still_load_as_one_run(tmp_path, baseline_file):
    old = json.loads(baseline_file.read_text())
    old["schema_version"] = 1
    del old["runs"]
    baseline_file.write_text(json.dumps(old))
    assert len(load_baseline(baseline_file)["runs"]) == 1
    assert gate(tmp_path, BASE, baseline_file).verdict == "pass"


def test_a_variant_trained_with_several_seeds_gives_one_baseline_run_per_seed(tmp_path):
    folder = write_run(tmp_path / "seeded", BASE, variants=("lora", "lora-s0", "lora-s1", "lora-s2"))
    results = json.loads((folder / "results.json").read_text())
    results["variants"]["lora"]["seeds"] = [{"seed": k, "variant": f"lora-s{k}"} for k in range(3)]
    (folder / "results.json").write_text(json.dumps(results))
    _, baseline = save_baseline(folder, "lora", tmp_path / "b.json")
    assert [(r["variant"], r["seed"]) for r in baseline["runs"]] == [("lora-s0", 0), ("lora-s1", 1), ("lora-s2", 2)]
    results["variants"]["lora"]["seeds"] = "three"
    (folder / "results.json").write_text(json.dumps(results))
    with pytest.raises(BenchError):
        save_baseline(folder, "lora", tmp_path / "b.json")
