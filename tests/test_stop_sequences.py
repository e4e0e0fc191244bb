"""Generation stops at an answer's first line when the task's answers are one line (issue 22, item 6)."""

from __future__ import annotations

import math

import pytest
import torch

from harness.model.generate import encode_prompts, first_line, generate
from harness.model.sample import sample_generations
from harness.tasks import task_from_spec, task_type
from harness.tasks.classification import ClassificationTask

SYSTEM = "Sort short notes into three kinds. Answer with one line 'kind: <label>': alpha, beta or gamma."
NOTES = ["apples again", "a long note about bricks and mortar and walls", "clouds", "rain on the roof today"]


def conversations() -> list[list[dict]]:
    return [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": note}] for note in NOTES]


def make_rambler():
    """The tiny random model with its newline token's embedding (tied to its output row) four times longer:
    greedy outputs then hold text, a newline, and more text, like a base model that rambles on."""
    from tiny_model import random_tiny_llama

    model, tokenizer = random_tiny_llama(initializer_range=0.2)
    (newline,) = tokenizer.encode("\n", add_special_tokens=False)
    with torch.no_grad():
        model.get_input_embeddings().weight[newline] *= 4.0
    return model.eval(), tokenizer


@pytest.fixture(scope="module")
def rambler():
    return make_rambler()


def test_first_line_is_the_text_before_the_first_newline_after_some_text():
    assert first_line("kind: alpha\nand more") == "kind: alpha"
    assert first_line("\n\n kind: beta\nrest") == "\n\n kind: beta"  # leading blank lines do not end an answer
    assert first_line("kind: gamma") is None
    assert first_line("\n \n") is None


def test_generation_stops_at_the_first_line_and_keeps_it_unchanged(rambler):
    model, tokenizer = rambler
    # Batch 2: a stopped row waits as padding while the other row of its batch goes on.
    full = generate(model, tokenizer, conversations(), batch_size=2, max_new_tokens=16)
    stopped = generate(model, tokenizer, conversations(), batch_size=2, max_new_tokens=16, stop_at_first_line=True)
    lines = [first_line(g.text) for g in full]
    assert sum(line is not None for line in lines) >= 2, f"the model no longer rambles: {[g.text for g in full]}"
    task = task_from_spec(ClassificationTask.model_validate({**TASK, "answer_format": "kind: {label}"}))
    for before, after, line in zip(full, stopped, lines):
        if line is None:  # no newline within the budget: the same output, as long
            assert (after.text, after.output_tokens) == (before.text, before.output_tokens)
            continue
        assert after.text == line
        assert task.parse(after.text) == task.parse(line)
        # Ended at the newline's token: whatever text came after it was never generated.
        if before.text[len(line) :].strip():
            assert after.output_tokens < before.output_tokens
        else:
            assert after.output_tokens <= before.output_tokens
    assert sum(g.output_tokens for g in stopped) < sum(g.output_tokens for g in full)


@torch.no_grad()
def test_a_stopped_answers_confidence_is_the_probability_of_the_tokens_it_kept(rambler):
    """Not of the padding that follows a row that stopped while its batch went on."""
    model, tokenizer = rambler
    stopped = generate(
        model,
        tokenizer,
        conversations(),
        batch_size=2,
        max_new_tokens=16,
        stop_at_first_line=True,
        with_confidence=True,
    )
    assert any(answer.output_tokens < 16 for answer in stopped), "no row stopped early"
    for ids, answer in zip(encode_prompts(tokenizer, conversations()), stopped):
        sequence, logprob = torch.tensor([ids]), 0.0
        for _ in range(answer.output_tokens):  # the greedy tokens, one at a time, without a cache or padding
            scores = model(input_ids=sequence).logits[0, -1].float().log_softmax(-1)
            logprob += float(scores.max())
            sequence = torch.cat([sequence, scores.argmax().view(1, 1)], dim=1)
        assert answer.confidence == pytest.approx(math.exp(logprob), rel=1e-3)


@pytest.mark.parametrize("method", ["prompt_tuning", "prefix_tuning"])
def test_virtual_token_models_stop_at_the_first_line_too(method):
    """Prompt and prefix tuning generate through their own wrapper, with placeholders or embeddings in front."""
    from peft import PrefixTuningConfig, PromptTuningConfig, get_peft_model

    from harness.variants.prompt_learning import VirtualTokenGenerator

    model, tokenizer = make_rambler()
    config = (PromptTuningConfig if method == "prompt_tuning" else PrefixTuningConfig)(
        num_virtual_tokens=3, task_type="CAUSAL_LM"
    )
    wrapper = VirtualTokenGenerator(get_peft_model(model, config).eval())
    full = generate(wrapper, tokenizer, conversations(), batch_size=2, max_new_tokens=16)
    stopped = generate(wrapper, tokenizer, conversations(), batch_size=2, max_new_tokens=16, stop_at_first_line=True)
    lines = [first_line(g.text) for g in full]
    assert any(line is not None for line in lines), [g.text for g in full]
    assert [g.text for g in stopped] == [line if line is not None else g.text for g, line in zip(full, lines)]
    assert sum(g.output_tokens for g in stopped) < sum(g.output_tokens for g in full)


def test_sampled_answers_end_at_their_first_line_too(rambler):
    model, tokenizer = rambler
    kwargs = dict(samples=2, temperature=0.3, batch_size=8, max_new_tokens=16, seed=3)
    rambling = sample_generations(model, tokenizer, conversations(), **kwargs)
    assert sum(first_line(text) is not None for item in rambling for text in item) >= 3
    stopped = sample_generations(model, tokenizer, conversations(), stop_at_first_line=True, **kwargs)
    assert not any("\n" in text.lstrip() for item in stopped for text in item)


TASK = {"type": "classification", "labels": ["alpha", "beta"], "data": {"test": "t.jsonl"}}
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}}


@pytest.mark.parametrize(
    "spec, one_line",
    [
        (TASK, True),
        ({**TASK, "answer_format": "kind:\n{label}"}, False),  # a format that spans lines is read whole
        ({"type": "extraction", "data": {"test": "t.jsonl"}, "json_schema": SCHEMA}, False),  # JSON may span lines
        ({"type": "generation", "data": {"test": "t.jsonl"}}, False),  # free text
    ],
)
def test_only_answers_of_one_line_stop_at_the_first_line(spec, one_line):
    spec_class = task_type(spec["type"]).Spec
    assert task_from_spec(spec_class.model_validate(spec)).single_line_answers is one_line
