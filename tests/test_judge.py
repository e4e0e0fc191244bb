"""Model-graded scoring: a judge behind `bench serve` on the tiny model, over real HTTP on 127.0.0.1.

The tiny random model is a stand-in judge: its replies are almost never a bare
grade, so most are unreadable. That is a real case the run must show (counted,
reported, left out of the mean), so the run-level tests check that the counts add
up; the scoring of readable replies is checked with a scripted judge below.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import write_jsonl
from test_serve import free_port
from test_task_type_runs import TINY_GENERATION, tiny_rows

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.gate.baseline import save_baseline
from harness.gate.evaluate import gate_run
from harness.judge import JudgeSetup, judge_variants
from harness.judge.agreement import human_agreement, load_human_grades
from harness.judge.cache import JudgeCache
from harness.judge.prompts import parse_grade, parse_verdict
from harness.report import write_report
from harness.suite.judge_spec import JudgeSpec
from harness.tasks.generation import judged_mean_parts, score_judged
from harness.tasks.metrics import require_rows

N_TEST = 6
VARIANTS = """\
variants:
  - name: zero-shot
    kind: zero_shot
  - name: few-shot
    kind: few_shot
    shots: 2
"""


# ----------------------------------------------------------------------------- bench serve, as the judge
@pytest.fixture(scope="module")
def judge_server(tiny_model_dir):
    """`bench serve`'s app on the tiny model under uvicorn in a thread (as tests/test_serve.py): real HTTP."""
    import uvicorn

    from harness.model.loading import load_base
    from harness.serve.adapters import AdapterRegistry
    from harness.serve.app import create_app

    registry = AdapterRegistry.load(load_base(str(tiny_model_dir)), "tiny", {})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(registry), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


def served(endpoint: str) -> int:
    """Chat completions the server has answered: counted server-side, not by the client under test."""
    return httpx.get(endpoint.removesuffix("/v1") + "/health").json()["requests_served"]


def judged_suite(root: Path, tiny_model_dir: Path, judge: str) -> Path:
    for split, count, start in (("train", 4, 0), ("validation", 2, 100), ("test", N_TEST, 200)):
        write_jsonl(root / "data" / f"{split}.jsonl", tiny_rows("generation", split, count, start))
    text = TINY_GENERATION.format(model=tiny_model_dir)
    suite = root / "judged.yaml"
    suite.write_text(text[: text.index("variants:\n")] + VARIANTS + judge)
    return suite


def rubric_block(endpoint: str, **extra: str) -> str:
    lines = [
        "judge:",
        f"  endpoint: {endpoint}",
        "  model: tiny",
        '  rubric: "Plain words, every number kept, nothing added."',
        "  scale: [1, 5]",
        *(f"  {key}: {value}" for key, value in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def test_a_rubric_judge_over_http_grades_every_variant_and_a_rerun_asks_it_nothing(
    judge_server, tiny_model_dir, tmp_path
):
    from harness.run.recipe import run_suite

    write_jsonl(
        tmp_path / "human.jsonl",
        [{"item_id": f"test-{i}", "variant": "zero-shot", "grade": 1 + i % 5} for i in range(200, 205)],
    )
    suite = judged_suite(tmp_path, tiny_model_dir, rubric_block(judge_server, human_grades="human.jsonl"))
    before = served(judge_server)
    first = run_suite(suite, tmp_path / "first").run_dir
    asked = served(judge_server) - before

    results = json.loads((first / "results.json").read_text())
    judge = results["judge"]
    assert judge["mode"] == "rubric" and judge["cached"] == 0
    assert judge["requests"] == asked and 0 < asked <= 2 * N_TEST  # identical questions are asked once
    rows = [json.loads(line) for line in (first / "samples.jsonl").read_text().splitlines()]
    for name in ("zero-shot", "few-shot"):
        summary, metrics = judge["variants"][name], results["variants"][name]["metrics"]
        mine = [r for r in rows if r["variant"] == name]
        read = [r for r in mine if r["judge_ok"]]
        # Every output judged once; read + unreadable = judged; only read replies are in the mean.
        assert summary["judged"] == len(mine) == N_TEST
        assert summary["parsed"] + summary["unparsed"] == N_TEST and summary["parsed"] == len(read)
        assert metrics["judge_parse_rate"]["value"] == pytest.approx(len(read) / N_TEST)
        assert metrics["judge_score"]["n"] == len(read)
        assert all(r["judge_score"] is None for r in mine if not r["judge_ok"])
        assert all(0 <= r["judge_score"] <= 1 and parse_grade(r["judge_reply"], (1, 5)) for r in read)
        if read:
            low, value, high = (metrics["judge_score"][k] for k in ("ci_low", "value", "ci_high"))
            assert low - 1e-12 <= value <= high + 1e-12
        else:
            assert metrics["judge_score"]["value"] is None
    human = judge["human"]
    assert human["statistic"] == "spearman" and human["graded"] == 5
    assert human["compared"] + human["judge_unparsed"] + human["not_judged"] == 5 and human["not_judged"] == 0

    write_report(first)
    html = (first / "report.html").read_text()
    assert 'id="judge"' in html and "judge score" in html and "judge replies read" in html
    assert f"asked the judge {asked} time" in html
    summary_md = (first / "summary.md").read_text()
    parsed = judge["variants"]["zero-shot"]["parsed"]
    assert f"Judge (rubric; {asked} requests, 0 cached)" in summary_md
    assert f"{parsed} of {N_TEST} replies read" in summary_md

    # The same suite again: variants come from the store, every judge reply from the judge cache.
    before = served(judge_server)
    second = run_suite(suite, tmp_path / "second").run_dir
    assert served(judge_server) == before
    again = json.loads((second / "results.json").read_text())
    assert again["judge"]["requests"] == 0 and again["judge"]["cached"] == asked
    for name in ("zero-shot", "few-shot"):
        assert again["variants"][name]["metrics"]["judge_score"] == results["variants"][name]["metrics"]["judge_score"]

    # The gate reads judge_score like ROUGE-L: plant readable grades, few-shot far below zero-shot on 5 of 6 items.
    rows = [json.loads(line) for line in (second / "samples.jsonl").read_text().splitlines()]
    for r in rows:
        r.update(judge_ok=True, judge_score=1.0 if r["variant"] == "zero-shot" or r["item_id"] == "test-200" else 0.0)
    (second / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for name in ("zero-shot", "few-shot"):
        again["variants"][name]["metrics"].update(score_judged([r for r in rows if r["variant"] == name]))
    (second / "results.json").write_text(json.dumps(again))
    save_baseline(second, "zero-shot", out=tmp_path / "baseline.json")
    manifest = json.loads((second / "manifest.json").read_text())
    # alpha 0.05: six items, five discordant, cannot reach the default 0.01 (an exact paired test: p = 2^-5)
    manifest["resolved_config"]["gate"] = {"alpha": 0.05, "allowed_drop": {"judge_score": 0.05}}
    (second / "manifest.json").write_text(json.dumps(manifest))
    (check,) = gate_run(second, tmp_path / "baseline.json", variant="few-shot").checks
    assert (check.subject, check.verdict) == ("judge_score", "fail") and check.delta == pytest.approx(-5 / 6)


def test_a_pairwise_judge_asks_both_orders_and_counts_flips(judge_server, tiny_model_dir, tmp_path):
    from harness.run.recipe import run_suite

    block = f"judge:\n  endpoint: {judge_server}\n  model: tiny\n  mode: pairwise\n  reference: zero-shot\n"
    suite = judged_suite(tmp_path, tiny_model_dir, block)
    run_dir = run_suite(suite, tmp_path / "run").run_dir
    judge = json.loads((run_dir / "results.json").read_text())["judge"]
    assert set(judge["variants"]) == {"few-shot"}  # the reference is not compared with itself
    few = judge["variants"]["few-shot"]
    assert few["judged"] == N_TEST and few["parsed"] + few["unparsed"] == N_TEST
    assert 0 <= few["flips"] <= few["parsed"] and judge["requests"] <= 2 * N_TEST
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert all(len(r["judge_reply"]) == 2 for r in rows if r["variant"] == "few-shot")
    assert not any("judge_ok" in r for r in rows if r["variant"] == "zero-shot")
    write_report(run_dir)
    html = (run_dir / "report.html").read_text()
    assert 'id="judge"' in html and "verdict flips with order" in html


def test_a_local_judge_is_loaded_by_the_model_loader_and_counted_the_same_way(tiny_model_dir, tmp_path):
    spec = JudgeSpec(model_path=str(tiny_model_dir), rubric="plain words", scale=(1, 5))
    rows = {"v": rows_of("v", ["one", "two", "three"])}
    items = {f"i{k}": Item(f"i{k}") for k in range(3)}
    summary = judge_variants(JudgeSetup(spec, None), rows, items, cache_root=tmp_path, secret=b"k")
    assert summary["judge"]["model_path"] == str(tiny_model_dir) and summary["requests"] == 3
    v = summary["variants"]["v"]
    assert v["judged"] == 3 and v["parsed"] + v["unparsed"] == 3
    assert [r["judge_ok"] for r in rows["v"]] == [parse_grade(r["judge_reply"], (1, 5)) is not None for r in rows["v"]]


# ----------------------------------------------------------------------------- keys never in the suite
@pytest.mark.parametrize(
    "line",
    ["  api_key: sk-live-0123456789abcdef", "  api_key_env: sk-live-0123456789abcdef"],
    ids=["api_key", "api_key_env holding a key"],
)
def test_a_literal_api_key_in_the_suite_is_refused_without_echoing_it(tiny_model_dir, tmp_path, capsys, line):
    suite = judged_suite(tmp_path, tiny_model_dir, rubric_block("http://127.0.0.1:9/v1") + line + "\n")
    assert main(["validate", str(suite)]) == 2
    err = capsys.readouterr().err
    number = suite.read_text().splitlines().index(line) + 1
    located = [x for x in err.splitlines() if f"judged.yaml:{number}" in x]
    assert len(located) == 1 and "judge.api_key" in located[0] and "environment variable" in located[0], err
    assert "0123456789abcdef" not in err


def test_a_missing_key_variable_stops_the_run_before_anything_runs(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BENCH_TEST_JUDGE_KEY", raising=False)
    block = rubric_block("http://127.0.0.1:9/v1", api_key_env="BENCH_TEST_JUDGE_KEY")
    suite = judged_suite(tmp_path, tiny_model_dir, block)
    assert main(["run", str(suite), "--out", str(tmp_path / "run")]) == 2
    assert "BENCH_TEST_JUDGE_KEY" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_an_unreachable_judge_is_an_input_error_naming_the_endpoint():
    from harness.judge import HttpJudge

    endpoint = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    judge = HttpJudge(endpoint, "m", api_key=None, max_tokens=4, timeout_s=5)
    with pytest.raises(BenchError, match="could not be reached") as info:
        judge.ask([[{"role": "user", "content": "grade"}]])
    assert endpoint in str(info.value) and judge.requests == 0


@pytest.mark.parametrize(
    "judge, expected",
    [
        ({"model": "x", "rubric": "r"}, "name one judge"),
        ({"endpoint": "http://h/v1", "rubric": "r"}, "endpoint needs model"),
        ({"endpoint": "http://u:secret@h/v1", "model": "x", "rubric": "r"}, "credentials"),
        ({"endpoint": "http://h/v1", "model": "x"}, "needs rubric"),
        ({"endpoint": "http://h/v1", "model": "x", "mode": "pairwise"}, "needs reference"),
        ({"endpoint": "http://h/v1", "model": "x", "rubric": "r", "scale": [5, 1]}, "low < high"),
    ],
)
def test_judge_blocks_that_cannot_work_are_refused(judge, expected):
    with pytest.raises(ValueError, match=expected):
        JudgeSpec.model_validate(judge)


# ----------------------------------------------------------------------------- strict reading, scoring, cache
def test_replies_are_read_strictly():
    assert [parse_grade(r, (1, 5)) for r in ["4", " 5.\n", "0", "6", "4/5", "Grade: 4", "four", "4 ", ""]] == [
        4,
        5,
        None,
        None,
        None,
        None,
        None,
        4,
        None,
    ]
    assert [parse_verdict(r) for r in ["A", "B.", "Tie", "a", "A is better", "", "tie "]] == [
        "A",
        "B",
        "tie",
        None,
        None,
        None,
        "tie",
    ]


class ScriptedJudge:
    """Replies by a rule on the question; counts what it was asked (a judge double for the scoring logic)."""

    def __init__(self, rule):
        self.rule, self.requests = rule, 0

    def identity(self) -> dict:
        return {"scripted": True}

    def ask(self, conversations, on_batch=None):
        self.requests += len(conversations)
        return [self.rule(messages[-1]["content"]) for messages in conversations]


class Item:
    def __init__(self, item_id: str):
        self.id, self.prompt, self.answer = item_id, ({"role": "user", "content": f"note {item_id}"},), "gold"


def rows_of(variant: str, outputs: list[str]) -> list[dict]:
    return [
        {"variant": variant, "item_id": f"i{k}", "parsed": text, "rouge_l": k / 10} for k, text in enumerate(outputs)
    ]


def test_rubric_scores_are_normalised_and_unreadable_replies_left_out_of_the_mean(tmp_path):
    # The judge grades by the answer's length; "ramble" gets a reply that is not a grade.
    def rule(question: str) -> str:
        answer = question.split("Answer to grade:\n")[1].split("\n\nGrade")[0]
        return "I think it is fine" if answer == "ramble" else str(len(answer))

    spec = JudgeSpec(endpoint="http://h/v1", model="m", rubric="short is good", scale=(1, 5))
    rows = {"v": rows_of("v", ["a", "abc", "abcde", "ramble"])}
    items = {f"i{k}": Item(f"i{k}") for k in range(4)}
    judge = ScriptedJudge(rule)
    summary = judge_variants(
        JudgeSetup(spec, None), rows, items, cache_root=tmp_path / "cache", secret=b"k", judge=judge
    )
    assert [r["judge_score"] for r in rows["v"]] == [0.0, 0.5, 1.0, None]
    assert summary["variants"]["v"]["parsed"] == 3 and summary["variants"]["v"]["unparsed"] == 1
    assert summary["variants"]["v"]["score"]["value"] == pytest.approx(0.5)
    # The variant's metrics: the mean over read replies with its interval, and the share read.
    metrics = score_judged(rows["v"])
    assert metrics["judge_score"]["value"] == pytest.approx(0.5) and metrics["judge_score"]["n"] == 3
    assert metrics["judge_score"]["ci_low"] < 0.5 < metrics["judge_score"]["ci_high"]
    assert metrics["judge_parse_rate"]["value"] == 0.75
    # Paired tests and the gate read the same mean from per-item parts; a None score is not a missing field.
    parts, combine = judged_mean_parts(rows["v"])
    assert combine(parts.sum(0, keepdims=True))[0] == pytest.approx(0.5)
    require_rows("judge_score", rows["v"], "the run")
    with pytest.raises(BenchError, match="without 'judge_score'"):
        require_rows("judge_score", [{"item_id": "i0"}], "an older baseline")
    # A second pass asks nothing: every question is in the cache.
    again = {"v": rows_of("v", ["a", "abc", "abcde", "ramble"])}
    summary = judge_variants(
        JudgeSetup(spec, None), again, items, cache_root=tmp_path / "cache", secret=b"k", judge=judge
    )
    assert judge.requests == 4 and summary["requests"] == 4 and summary["cached"] == 4


def test_a_position_biased_judge_flips_every_pair_and_scores_a_tie(tmp_path):
    spec = JudgeSpec(endpoint="http://h/v1", model="m", mode="pairwise", reference="ref")
    rows = {"ref": rows_of("ref", ["x", "y", "z"]), "cand": rows_of("cand", ["p", "q", "r"])}
    items = {f"i{k}": Item(f"i{k}") for k in range(3)}
    summary = judge_variants(
        JudgeSetup(spec, None), rows, items, cache_root=tmp_path, secret=b"k", judge=ScriptedJudge(lambda q: "A")
    )
    cand = summary["variants"]["cand"]
    assert cand["flips"] == 3 and cand["flip_rate"]["value"] == 1.0 and cand["score"]["value"] == 0.5
    # A consistent judge that prefers the candidate's text wherever it stands: a win, no flips.
    rows = {"ref": rows_of("ref", ["x"]), "cand": rows_of("cand", ["p"])}

    def candidate_first(question: str) -> str:
        return "A" if "Answer A:\np" in question else "B"

    prefers = ScriptedJudge(candidate_first)
    summary = judge_variants(
        JudgeSetup(spec, None), rows, {"i0": Item("i0")}, cache_root=tmp_path / "2", secret=b"k", judge=prefers
    )
    assert summary["variants"]["cand"]["flips"] == 0 and summary["variants"]["cand"]["score"]["value"] == 1.0


def test_a_planted_cache_entry_is_not_trusted(tmp_path):
    cache = JudgeCache(tmp_path, b"right")
    cache.put("ab" * 32, "5")
    assert JudgeCache(tmp_path, b"right").get("ab" * 32) == "5"
    assert JudgeCache(tmp_path, b"wrong").get("ab" * 32) is None


def test_agreement_with_human_grades(tmp_path):
    rows = {"v": [{"item_id": f"i{k}", "judge_ok": k != 4, "judge_score": k / 4 if k != 4 else None} for k in range(5)]}
    numeric = [{"item_id": f"i{k}", "variant": "v", "grade": k} for k in range(5)]
    out = human_agreement(numeric, rows, pass_mark=0.5)
    assert out["statistic"] == "spearman" and out["value"] == pytest.approx(1.0)
    assert (out["compared"], out["judge_unparsed"], out["not_judged"]) == (4, 1, 0)
    passed = [{"item_id": f"i{k}", "variant": "v", "grade": k >= 2} for k in range(4)]
    out = human_agreement(passed, rows, pass_mark=0.5)
    assert out["statistic"] == "cohen_kappa" and out["value"] == pytest.approx(1.0)


def test_a_malformed_human_grades_file_names_its_lines(tmp_path):
    path = tmp_path / "grades.jsonl"
    path.write_text('{"item_id": "a", "variant": "v", "grade": 3}\nnot json\n{"item_id": "b", "grade": "great"}\n')
    with pytest.raises(BenchError) as info:
        load_human_grades(path, "grades.jsonl")
    text = str(info.value)
    assert "grades.jsonl:2" in text and "grades.jsonl:3: variant" in text and "grades.jsonl:3: grade" in text
