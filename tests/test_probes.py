"""Forgetting probes: the shipped lm-eval tasks, running them, and comparing a variant with the base."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from harness.probes import generate_tasks
from harness.probes.compare import (
    AdapterNotAppliedError,
    adapter_applied,
    compare_to_base,
)
from harness.probes.run import (
    PROBE_TASK_DIR,
    UnknownProbeTaskError,
    list_probe_tasks,
    render_task_dir,
    run_probes,
)

SHIPPED = [
    "bench_arithmetic",
    "bench_arithmetic_gen",
    "bench_commonsense",
    "bench_format_following",
    "bench_world_knowledge",
]
MIN_ITEMS = {"bench_arithmetic_gen": 100}  # generation probes are slower per item; the rest need >= 150


@pytest.fixture
def tiny(tiny_model_dir):
    """(model, tokenizer): the shared tiny random Llama, freshly loaded (peft wraps models in place)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def bench_tasks(tmp_path_factory):
    """Every shipped task, built by lm-eval's TaskManager (which loads its data)."""
    from lm_eval.tasks import TaskManager

    rendered = render_task_dir(tmp_path_factory.mktemp("tasks"))
    return TaskManager(include_path=str(rendered), include_defaults=False).load(SHIPPED)["tasks"]


# ----------------------------------------------------------------------------- the shipped tasks
def test_shipped_tasks_are_listed():
    assert list_probe_tasks() == SHIPPED


def test_lm_eval_validate_finds_every_task(tmp_path):
    rendered = render_task_dir(tmp_path / "tasks")
    out = subprocess.run(
        [sys.executable, "-m", "lm_eval", "validate", "--tasks", ",".join(SHIPPED), "--include_path", str(rendered)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All tasks found and valid" in out.stdout


def test_tasks_load_from_any_working_directory(tmp_path, monkeypatch):
    from lm_eval.tasks import TaskManager

    monkeypatch.chdir(tmp_path)  # data paths must not depend on where bench runs
    manager = TaskManager(include_path=str(render_task_dir(tmp_path / "tasks")), include_defaults=False)
    assert len(manager.load(["bench_commonsense"])["tasks"]["bench_commonsense"].eval_docs) >= 150


@pytest.mark.parametrize("name", SHIPPED)
def test_task_items_are_complete_and_well_formed(bench_tasks, name):
    task = bench_tasks[name]
    docs = list(task.eval_docs)
    assert len(docs) >= MIN_ITEMS.get(name, 150)
    prompts = [task.doc_to_text(doc) for doc in docs]
    assert len(set(prompts)) == len(prompts), "duplicate items"
    assert len({doc["id"] for doc in docs}) == len(docs)
    for doc, prompt in zip(docs, prompts):
        assert prompt and "{{" not in prompt
        if task.OUTPUT_TYPE == "multiple_choice":
            choices = task.doc_to_choice(doc)
            assert len(choices) >= 2 and len(set(choices)) == len(choices), doc
            assert 0 <= task.doc_to_target(doc) < len(choices), doc
        else:
            assert task.OUTPUT_TYPE == "generate_until"
            assert task.doc_to_target(doc).strip() == task.doc_to_target(doc) != "", doc


def test_shipped_data_is_what_the_generator_writes():
    for name, items in generate_tasks.build_all().items():
        assert (PROBE_TASK_DIR / "data" / name).read_text() == generate_tasks.to_jsonl(items), name


def _solve(question: str):
    """Recompute an arithmetic answer from the question text alone (not from the generator)."""
    if m := re.fullmatch(r"What is (\d+) ([+-]|times) (\d+)\?", question):
        a, op, b = int(m[1]), m[2], int(m[3])
        return str(a + b if op == "+" else a - b if op == "-" else a * b)
    if m := re.fullmatch(r"What is half of (\d+)\?", question):
        return str(int(m[1]) // 2)
    if m := re.fullmatch(r"What is (\d+) rounded to the nearest ten\?", question):
        n = int(m[1])
        return str((n + 5) // 10 * 10)
    if m := re.fullmatch(r"What number comes next: ([\d, ]+)\?", question):
        terms = [int(t) for t in m[1].split(", ")]
        return str(terms[-1] + terms[1] - terms[0])
    if m := re.fullmatch(r"Which number is (larger|smaller): ([\d.]+) or ([\d.]+)\?", question):
        pick = max if m[1] == "larger" else min
        return pick(m[2], m[3], key=float)
    raise AssertionError(f"unrecognised question: {question}")


def test_arithmetic_answers_are_right():
    rows = [json.loads(line) for line in (PROBE_TASK_DIR / "data" / "arithmetic.jsonl").open()]
    for row in rows:
        assert row["choices"][row["answer"]] == _solve(row["question"]), row
    gen = [json.loads(line) for line in (PROBE_TASK_DIR / "data" / "arithmetic_gen.jsonl").open()]
    for row in gen:
        assert row["target"] == _solve(row["question"]), row


def test_format_following_targets_match_their_demonstration():
    rows = [json.loads(line) for line in (PROBE_TASK_DIR / "data" / "format_following.jsonl").open()]
    transforms = {kind: fn for kind, _, _, _, fn in generate_tasks.FORMAT_KINDS}
    for row in rows:
        fn = transforms[row["kind"]]
        assert fn(row["example_input"]) == row["example_output"]
        assert fn(row["input"]) == row["target"] and row["input"] != row["example_input"]


# ----------------------------------------------------------------------------- running through lm-eval
def test_score_equals_lm_eval_run_directly(tiny, tmp_path):
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    model, tok = tiny
    ours = run_probes(
        model, tok, ["bench_arithmetic", "bench_arithmetic_gen"], limit=12, label="base", out_dir=tmp_path
    )

    direct = lm_eval.simple_evaluate(
        model=HFLM(pretrained=model, tokenizer=tok, batch_size=8, device="cpu"),
        tasks=["bench_arithmetic", "bench_arithmetic_gen"],
        task_manager=TaskManager(include_path=str(render_task_dir(tmp_path / "tasks")), include_defaults=False),
        limit=12,
    )
    assert ours["bench_arithmetic"]["score"] == direct["results"]["bench_arithmetic"]["acc,none"]
    assert ours["bench_arithmetic_gen"]["score"] == direct["results"]["bench_arithmetic_gen"]["exact_match,none"]
    for name, score in ours.items():
        assert score["status"] == "ok" and score["n"] == 12
        assert sum(score["per_item"]) / 12 == pytest.approx(score["score"])
        samples = [json.loads(line) for line in (tmp_path / "base" / f"{name}.jsonl").open()]
        assert [s["doc_id"] for s in samples] == list(range(12))
    assert len(ours["bench_arithmetic"]["loglikelihoods"]) == 12
    assert ours["bench_arithmetic_gen"]["loglikelihoods"] == []  # generation logs no log-likelihoods
    json.dumps(ours)  # goes into results.json as is


def test_limit_takes_the_first_items(tiny, tmp_path):
    model, tok = tiny
    run_probes(model, tok, ["bench_world_knowledge"], limit=5, label="base", out_dir=tmp_path)
    first = [json.loads(line)["id"] for line in (PROBE_TASK_DIR / "data" / "world_knowledge.jsonl").open()][:5]
    logged = [json.loads(line)["doc"]["id"] for line in (tmp_path / "base" / "bench_world_knowledge.jsonl").open()]
    assert logged == first


def test_probes_outside_a_git_repository_print_nothing_of_git(tiny, tmp_path, monkeypatch, capfd):
    # lm-eval asks `git describe` for the working directory's commit; outside a repository git's
    # "fatal: not a git repository" went straight to the terminal, past bench's quiet console.
    model, tok = tiny
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # no repository above tmp_path either
    run_probes(model, tok, ["bench_arithmetic"], limit=2, label="base", out_dir=tmp_path)
    printed = capfd.readouterr()
    assert "not a git repository" not in printed.err + printed.out


def _lora(model, **kwargs):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM", **kwargs)
    return get_peft_model(model, config)


def test_lora_with_nonzero_weights_is_detected_as_applied(tiny, tmp_path):
    model, tok = tiny
    base = run_probes(model, tok, ["bench_arithmetic"], limit=10, label="base", out_dir=tmp_path)
    variant = run_probes(
        _lora(model, init_lora_weights=False), tok, ["bench_arithmetic"], limit=10, label="lora", out_dir=tmp_path
    )
    result = compare_to_base(base, variant)["bench_arithmetic"]
    assert result["adapter_applied"] is True
    assert (
        result["n"] == 10
        and result["delta"] == variant["bench_arithmetic"]["score"] - base["bench_arithmetic"]["score"]
    )


def test_zero_initialised_lora_raises(tiny, tmp_path):
    model, tok = tiny
    base = run_probes(model, tok, ["bench_arithmetic"], limit=10, label="base", out_dir=tmp_path)
    variant = run_probes(_lora(model), tok, ["bench_arithmetic"], limit=10, label="lora", out_dir=tmp_path)
    with pytest.raises(AdapterNotAppliedError, match="bench_arithmetic"):
        compare_to_base(base, variant)


def test_the_unchanged_model_raises(tiny, tmp_path):
    model, tok = tiny
    first = run_probes(model, tok, ["bench_commonsense"], limit=6, label="a", out_dir=tmp_path)
    again = run_probes(model, tok, ["bench_commonsense"], limit=6, label="b", out_dir=tmp_path)
    with pytest.raises(AdapterNotAppliedError):
        compare_to_base(first, again)


def test_unreachable_public_task_is_reported_not_raised(tiny, tmp_path, monkeypatch):
    import datasets.config
    import huggingface_hub.constants

    # Offline with an empty cache, whatever this machine has downloaded before.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    model, tok = tiny
    scores = run_probes(model, tok, ["arc_easy", "bench_arithmetic"], limit=4, label="base", out_dir=tmp_path)
    assert scores["arc_easy"]["status"] == "unavailable"
    assert "arc_easy" in scores["arc_easy"]["reason"]
    assert scores["bench_arithmetic"]["status"] == "ok"  # the run went on


def test_unknown_task_name_suggests_the_right_one(tiny, tmp_path):
    model, tok = tiny
    with pytest.raises(UnknownProbeTaskError, match="bench_arithmetic"):
        run_probes(model, tok, ["bench_arithmetc"], limit=4, label="base", out_dir=tmp_path)


# ----------------------------------------------------------------------------- comparison arithmetic
def _scores(per_item, lls, *, status="ok", items_hash="h"):
    return {
        "status": status,
        "metric": "acc",
        "score": sum(per_item) / len(per_item),
        "n": len(per_item),
        "per_item": per_item,
        "loglikelihoods": lls,
        "items_hash": items_hash,
        "reason": None,
    }


def test_compare_on_0_1_items_uses_the_paired_score_interval():
    # Every item lost: delta -1, and the continuity-corrected Tango score interval excludes 0 -> worse.
    result = compare_to_base({"t": _scores([1.0] * 40, [-1.0] * 40)}, {"t": _scores([0.0] * 40, [-1.5] * 40)})["t"]
    assert (result["base"], result["variant"], result["delta"]) == (1.0, 0.0, -1.0)
    assert result["ci_low"] == -1.0 and -0.8 < result["ci_high"] < -0.75
    assert "Tango" in result["ci_method"]
    assert result["verdict"] == "worse" and result["n"] == 40 and result["adapter_applied"] is True
    # Two items, one lost: far too few to tell.
    result = compare_to_base({"t": _scores([1.0, 1.0], [-1.0, -1.0])}, {"t": _scores([0.0, 1.0], [-2.0, -1.0])})["t"]
    assert result["delta"] == -0.5 and result["ci_low"] < -0.5 < 0 < result["ci_high"]
    assert result["verdict"] == "inconclusive"
    # 4 lost, 0 gained of 100: the exact sign test gives p = 0.125, so this is not "worse" (issue 17).
    base = _scores([1.0] * 100, [-1.0] * 100)
    variant = _scores([0.0] * 4 + [1.0] * 96, [-2.0] * 4 + [-1.0] * 96)
    result = compare_to_base({"t": base}, {"t": variant})["t"]
    assert result["delta"] == pytest.approx(-0.04) and result["ci_high"] > 0
    assert result["verdict"] == "inconclusive"


def test_compare_reports_unavailable_and_refuses_unpaired_items():
    ok = _scores([1.0, 0.0], [-1.0, -2.0])
    missing = {"status": "unavailable", "reason": "offline", "per_item": [], "loglikelihoods": []}
    assert compare_to_base({"t": missing}, {"t": ok})["t"] == {"status": "unavailable", "reason": "offline"}
    with pytest.raises(ValueError, match="different items"):
        compare_to_base({"t": ok}, {"t": _scores([1.0, 0.0], [-3.0, -2.0], items_hash="other")})


def test_adapter_check_ignores_float_noise_but_not_real_change():
    assert adapter_applied([-1.0, -2.0], [-1.0 + 1e-7, -2.0]) is False
    assert adapter_applied([-1.0, -2.0], [-1.0, -2.01]) is True
    assert adapter_applied([], []) is None
