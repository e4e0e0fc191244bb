"""Rank mode: candidate answers scored by log-likelihood on a shared KV cache, on the tiny random model."""

from __future__ import annotations

import copy

import pytest
import torch

from harness.core.errors import BenchError
from harness.model.generate import encode_prompts
from harness.model.rank import choice_token_ids, rank_choices
from harness.variants.base import variant_configs

# A shared prefix ("kind:"), tails of different lengths, and a label that is a prefix of another.
CHOICES = ["kind: alpha", "kind: beta", "kind: gamma", "kind: sale", "kind: sale_of_goods"]


def conversation(i: int) -> list[dict]:
    turns = [{"role": "user", "content": f"Note {i}: " + "apples and bricks " * (i % 5)}]
    return ([{"role": "system", "content": "Classify the note."}] if i % 2 else []) + turns


CONVERSATIONS = [conversation(i) for i in range(7)]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval(), AutoTokenizer.from_pretrained(tiny_model_dir)


@torch.inference_mode()
def naive_loglikelihoods(model, tokenizer, conv: list[dict], choices: list[str]) -> list[float]:
    """One unpadded forward pass over prompt + candidate per choice, no cache."""
    prompt = encode_prompts(tokenizer, [conv])[0]
    scores = []
    for ids in choice_token_ids(tokenizer, conv, choices):
        logprobs = model(torch.tensor([prompt + ids])).logits[0].log_softmax(-1)
        scores.append(sum(logprobs[len(prompt) - 1 + j, token].item() for j, token in enumerate(ids)))
    return scores


def test_candidates_are_the_trained_completion_up_to_end_of_turn(tiny):
    _, tokenizer = tiny
    conv = CONVERSATIONS[1]
    prompt = encode_prompts(tokenizer, [conv])[0]
    for choice, ids in zip(CHOICES, choice_token_ids(tokenizer, conv, CHOICES)):
        full = tokenizer.apply_chat_template(
            conv + [{"role": "assistant", "content": choice}], tokenize=True, return_dict=True
        )["input_ids"]
        completion = full[len(prompt) :]  # what trl puts the loss on
        assert ids == completion[: len(ids)] and ids[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(ids) == choice + tokenizer.eos_token  # the template's newline after it is left out


def test_loglikelihoods_equal_a_naive_forward_per_candidate(tiny):
    model, tokenizer = tiny
    ranked = rank_choices(model, tokenizer, CONVERSATIONS, CHOICES, batch_size=4)
    for conv, r in zip(CONVERSATIONS, ranked):
        expected = naive_loglikelihoods(model, tokenizer, conv, CHOICES)
        assert r.loglikelihoods == pytest.approx(expected, abs=1e-4)
        assert r.choice == expected.index(max(expected)) and r.text == CHOICES[r.choice]
        assert r.prompt_tokens == len(encode_prompts(tokenizer, [conv])[0])
        assert r.output_tokens == len(choice_token_ids(tokenizer, conv, [r.text])[0]) - 1  # end-of-turn not counted


SYSTEM = "Classify the note by its kind. Answer with one line, kind: followed by the kind, and nothing else."
WITH_SYSTEM = [[{"role": "system", "content": SYSTEM}] + conversation(i)[-1:] for i in range(6)]


def test_the_shared_system_prompt_runs_once_and_scores_as_if_each_prompt_ran_whole(tiny):
    model, tokenizer = tiny
    encoded = encode_prompts(tokenizer, WITH_SYSTEM)
    ranked = rank_choices(model, tokenizer, WITH_SYSTEM, CHOICES, batch_size=4)
    shared = ranked[0].shared_prompt_tokens
    assert shared >= 16 and all(r.shared_prompt_tokens == shared for r in ranked)
    assert all(
        ids[:shared] == encoded[0][:shared] for ids in encoded
    )  # the system prompt's tokens, and only shared ones
    for conv, r in zip(WITH_SYSTEM, ranked):
        expected = naive_loglikelihoods(model, tokenizer, conv, CHOICES)
        assert r.loglikelihoods == pytest.approx(expected, abs=1e-4)
        assert r.choice == expected.index(max(expected))
    # One item alone has nothing to share with, and scores the same.
    alone = rank_choices(model, tokenizer, WITH_SYSTEM[:1], CHOICES, batch_size=1)[0]
    assert alone.shared_prompt_tokens == 0
    assert alone.loglikelihoods == pytest.approx(ranked[0].loglikelihoods, abs=1e-4)


def test_results_do_not_depend_on_batch_size_or_item_order(tiny):
    model, tokenizer = tiny
    reference = rank_choices(model, tokenizer, CONVERSATIONS, CHOICES, batch_size=1)
    for batch_size in (3, 16):
        ranked = rank_choices(model, tokenizer, CONVERSATIONS, CHOICES, batch_size=batch_size)
        assert [r.choice for r in ranked] == [r.choice for r in reference]
        for a, b in zip(ranked, reference):
            assert a.loglikelihoods == pytest.approx(b.loglikelihoods, abs=1e-4)
    # A token budget only regroups the rows: the same choices and log-likelihoods.
    budgeted = rank_choices(model, tokenizer, CONVERSATIONS, CHOICES, batch_size=16, max_batch_tokens=300)
    assert [r.choice for r in budgeted] == [r.choice for r in reference]
    for a, b in zip(budgeted, reference):
        assert a.loglikelihoods == pytest.approx(b.loglikelihoods, abs=1e-4)
    order = [5, 2, 6, 0, 3, 1, 4]
    shuffled = rank_choices(model, tokenizer, [CONVERSATIONS[i] for i in order], CHOICES, batch_size=3)
    for r, i in zip(shuffled, order):
        assert r.choice == reference[i].choice
        assert r.loglikelihoods == pytest.approx(reference[i].loglikelihoods, abs=1e-4)


def test_candidates_run_on_each_prompts_own_cache_never_a_copy_per_candidate(tiny):
    """A batch's forward passes carry at most one row per prompt: repeating every prompt's cache once per
    candidate held candidates x prompts caches at once (7.8 GB peak on 32 legal_classifier prompts)."""
    model, tokenizer = tiny
    rows_fed = []
    hook = model.register_forward_pre_hook(
        lambda module, args, kwargs: rows_fed.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        ranked = rank_choices(model, tokenizer, WITH_SYSTEM, CHOICES, batch_size=4)
    finally:
        hook.remove()
    assert max(rows_fed) == 4  # batches of 4 prompts with 5 candidates each: never 20 rows
    for conv, r in zip(WITH_SYSTEM, ranked):  # and each pass leaves the cache as the next one needs it
        assert r.loglikelihoods == pytest.approx(naive_loglikelihoods(model, tokenizer, conv, CHOICES), abs=1e-4)


def forward_passes(model, run) -> list[tuple[int, int]]:
    """(rows, tokens) fed by each forward pass of ``model`` while ``run()`` runs."""
    fed = []
    hook = model.register_forward_pre_hook(
        lambda module, args, kwargs: fed.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    try:
        run()
    finally:
        hook.remove()
    return fed


@pytest.mark.parametrize("grouped_heads", ["0", "1"])  # harness/model/attention.py: both give the same numbers
def test_every_candidate_runs_in_one_pass_over_the_prompts_cache(tiny, monkeypatch, grouped_heads):
    """One pass per batch scores all candidates side by side, each seeing only its prompt and its own tokens
    (a pass per candidate reads every weight once per candidate: a quarter of legal_classifier's time)."""
    monkeypatch.setenv("TRANSFORMERS_SDPA_FORCE_GQA", grouped_heads)
    model, tokenizer = tiny
    ranked = []
    passes = forward_passes(
        model, lambda: ranked.extend(rank_choices(model, tokenizer, WITH_SYSTEM, CHOICES, batch_size=4))
    )
    # The shared system prompt once, then per batch (4 + 2 prompts) a prompt pass and one candidate pass.
    assert len(passes) == 1 + 2 * 2
    candidate_tokens = sum(len(ids) - 1 for ids in choice_token_ids(tokenizer, WITH_SYSTEM[0], CHOICES)) - len(
        CHOICES
    ) * (
        1 + 1  # "kind:"'s shared token is scored by the prompt pass; each candidate's last token is never fed
    )
    assert passes[2] == (4, candidate_tokens) and passes[4] == (2, candidate_tokens)
    for conv, r in zip(WITH_SYSTEM, ranked):
        assert r.loglikelihoods == pytest.approx(naive_loglikelihoods(model, tokenizer, conv, CHOICES), abs=1e-4)


def test_eager_attention_and_small_passes_score_the_same(tiny, monkeypatch):
    """Eager attention reads the candidate tree as an additive mask; a pass budget smaller than the candidates
    splits them over several passes; an attention without 4D masks gets one pass per candidate."""
    import harness.model.rank as rank

    model, tokenizer = tiny
    reference = rank_choices(model, tokenizer, WITH_SYSTEM, CHOICES, batch_size=4)
    eager = copy.deepcopy(model)
    eager.set_attn_implementation("eager")
    for r, e in zip(reference, rank_choices(eager, tokenizer, WITH_SYSTEM, CHOICES, batch_size=4)):
        assert e.loglikelihoods == pytest.approx(r.loglikelihoods, abs=1e-4)
    monkeypatch.setattr(rank, "CANDIDATE_PASS_TOKENS", 2)
    passes = forward_passes(model, lambda: rank_choices(model, tokenizer, WITH_SYSTEM[:4], CHOICES, batch_size=4))
    # Candidates feed 1, 1, 1, 1 and 6 tokens (after the shared "kind:", less the last): two to a pass, the long one alone.
    assert [tokens for _, tokens in passes[2:]] == [2, 2, 6]
    monkeypatch.setattr(rank, "_takes_4d_masks", lambda model: False)
    for budget in (2, 32):
        monkeypatch.setattr(rank, "CANDIDATE_PASS_TOKENS", budget)
        for r, s in zip(reference, rank_choices(model, tokenizer, WITH_SYSTEM, CHOICES, batch_size=4)):
            assert s.loglikelihoods == pytest.approx(r.loglikelihoods, abs=1e-4)


def test_candidates_are_grouped_into_passes_by_the_tokens_they_feed(monkeypatch):
    import harness.model.rank as rank
    from harness.model.rank import _candidate_passes

    tails = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 10, 11], [12, 13]]  # feeds 2, 0, 1, 4, 1 tokens
    assert _candidate_passes(tails, one_per_pass=False) == [[0, 2, 3, 4]]
    assert _candidate_passes(tails, one_per_pass=True) == [[0], [2], [3], [4]]
    monkeypatch.setattr(rank, "CANDIDATE_PASS_TOKENS", 3)
    assert _candidate_passes(tails, one_per_pass=False) == [[0, 2], [3], [4]]  # 4 tokens > 3: a pass alone
    assert _candidate_passes([[1], [2]], one_per_pass=False) == []


def test_ties_go_to_the_first_choice_and_progress_is_reported(tiny):
    model, tokenizer = tiny
    seen = []
    ranked = rank_choices(
        model, tokenizer, CONVERSATIONS[:3], ["kind: beta", "kind: beta"], batch_size=2, on_batch=seen.append
    )
    assert seen == [2, 1]
    for r in ranked:
        assert r.choice == 0 and r.loglikelihoods[0] == r.loglikelihoods[1]


def test_a_model_that_only_generates_is_refused_with_the_reason(tiny):
    class GenerateOnly:  # what prompt_tuning and prefix_tuning variants hand over
        def parameters(self):
            return iter([torch.zeros(1)])

    with pytest.raises(TypeError, match="generate mode"):
        rank_choices(GenerateOnly(), tiny[1], CONVERSATIONS[:1], CHOICES, batch_size=1)


RANK_SUITE_EXTRA = """\
  mode: rank
"""


def test_run_in_rank_mode_records_the_mode_and_the_report_says_format_is_not_measured(tiny_suite, tmp_path):
    from harness.core.files import read_json, read_jsonl
    from harness.run.recipe import run_suite

    tiny_suite.write_text(tiny_suite.read_text().replace("inference:\n", "inference:\n" + RANK_SUITE_EXTRA))
    from harness.report import write_report

    run = run_suite(tiny_suite, tmp_path / "run", only=["zero-shot", "lora"]).run_dir
    write_report(run)
    results = read_json(run / "results.json")
    answers = {f"kind: {label}" for label in ("alpha", "beta", "gamma")}
    for name in ("zero-shot", "lora"):
        record = results["variants"][name]
        assert record["status"] == "ok", record.get("reason")
        assert record["cost"]["inference_mode"] == "rank"
    rows = read_jsonl(run / "samples.jsonl")
    assert len(rows) == 18
    assert all(r["raw_output"] in answers and r["format_ok"] and r["parsed"] for r in rows)
    assert read_json(run / "manifest.json")["resolved_config"]["inference"]["mode"] == "rank"
    assert "not measured (rank mode)" in (run / "report.html").read_text()
    assert "not measured (rank mode)" in (run / "summary.md").read_text()


EXTRACTION_SUITE = """\
name: s
task:
  type: extraction
  json_schema: {type: object, properties: {who: {type: string}}}
  data: {test: t.jsonl}
base_model: {name: smollm2-135m-instruct}
inference:
  batch_size: 4
  mode: rank
variants:
  - {name: z, kind: zero_shot}
"""


def test_rank_mode_on_an_extraction_task_is_a_spec_error_at_its_line(tmp_path):
    from harness.suite import load_suite

    path = tmp_path / "suite.yaml"
    path.write_text(EXTRACTION_SUITE)
    with pytest.raises(BenchError) as info:
        load_suite(path, variant_configs())
    problems = [str(p) for p in info.value.problems]
    assert len(problems) == 1
    assert problems[0].startswith("suite.yaml:9: inference.mode: mode 'rank'".replace("suite.yaml", str(path)))
    assert "classification" in problems[0] and "'extraction'" in problems[0]


def test_rank_mode_refuses_merge_check(tmp_path):
    from harness.suite import load_suite

    path = tmp_path / "suite.yaml"
    path.write_text(
        EXTRACTION_SUITE.replace(
            "type: extraction\n  json_schema: {type: object, properties: {who: {type: string}}}",
            "type: classification\n  labels: [a, b]",
        ).replace("  mode: rank\n", "  mode: rank\n  merge_check: true\n")
    )
    with pytest.raises(BenchError) as info:
        load_suite(path, variant_configs())
    assert any("inference" in str(p) and "merge_check" in str(p) for p in info.value.problems)
