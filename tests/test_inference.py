"""Batched greedy generation: the shared-prefix cache must not change any answer."""

from __future__ import annotations

import pytest

from harness.model.generate import MIN_SHARED_PREFIX, encode_prompts, generate, shared_prefix_length

SYSTEM = (
    "You sort short notes into three kinds. Answer with one line 'kind: <label>', where the label is "
    "alpha (fruit), beta (building materials) or gamma (weather)."
)


def conversations(n: int) -> list[list[dict]]:
    notes = [
        "apples again",
        "a long note about bricks and mortar and walls " * 3,
        "clouds",
        "rain on the roof today",
        "pears",
        "concrete blocks, many of them, stacked high",
    ]
    return [
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Note {i}: {notes[i % len(notes)]}"}]
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def tiny():
    """Larger initial weights than the shared fixture's, so a wrong mask or position changes the text."""
    from tiny_model import random_tiny_llama

    model, tokenizer = random_tiny_llama(initializer_range=0.2)
    return model.eval(), tokenizer


def test_shared_prefix_length_leaves_every_prompt_a_token_of_its_own():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]) == 2
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2  # one prompt is a prefix of the other
    assert shared_prefix_length([[1, 2, 3]]) == 0  # nothing to share with one prompt
    assert shared_prefix_length([[5, 2], [1, 2]]) == 0


def test_prompts_of_a_suite_share_their_system_prompt(tiny):
    _, tokenizer = tiny
    assert shared_prefix_length(encode_prompts(tokenizer, conversations(6))) >= MIN_SHARED_PREFIX


def test_shared_prefix_cache_gives_the_same_tokens_as_full_prompts(tiny):
    model, tokenizer = tiny
    convs = conversations(7)
    plain = generate(model, tokenizer, convs, batch_size=3, max_new_tokens=10, share_prefix=False)
    shared = generate(model, tokenizer, convs, batch_size=3, max_new_tokens=10, share_prefix=True)
    assert [g.text for g in shared] == [g.text for g in plain]
    assert [g.output_tokens for g in shared] == [g.output_tokens for g in plain]
    assert [g.prompt_tokens for g in shared] == [g.prompt_tokens for g in plain]
    assert len({g.text for g in shared}) > 3  # the model reads its prompts: a masking slip would show


def test_answers_do_not_depend_on_batch_size(tiny):
    model, tokenizer = tiny
    convs = conversations(7)
    one = generate(model, tokenizer, convs, batch_size=1, max_new_tokens=8)
    many = generate(model, tokenizer, convs, batch_size=4, max_new_tokens=8)
    assert [g.text for g in one] == [g.text for g in many]


def test_a_token_budget_splits_long_batches_without_changing_answers(tiny):
    model, tokenizer = tiny
    convs = conversations(7)
    widest = max(len(ids) for ids in encode_prompts(tokenizer, convs)) + 8
    batches = []
    budgeted = generate(
        model, tokenizer, convs, batch_size=7, max_new_tokens=8, max_batch_tokens=2 * widest, on_batch=batches.append
    )
    assert max(batches) <= 2 and sum(batches) == 7  # two rows of the widest prompt fill the budget
    assert [g.text for g in budgeted] == [
        g.text for g in generate(model, tokenizer, convs, batch_size=7, max_new_tokens=8)
    ]


def test_shared_prefix_runs_once_in_the_token_count(tiny):
    from harness.model.generate import computed_prompt_tokens

    model, tokenizer = tiny
    convs = conversations(5)
    prefix = shared_prefix_length(encode_prompts(tokenizer, convs))
    shared = generate(model, tokenizer, convs, batch_size=2, max_new_tokens=2)
    plain = generate(model, tokenizer, convs, batch_size=2, max_new_tokens=2, share_prefix=False)
    assert {g.shared_prompt_tokens for g in shared} == {prefix}
    assert computed_prompt_tokens(plain) == sum(g.prompt_tokens for g in plain)
    assert computed_prompt_tokens(shared) == sum(g.prompt_tokens for g in plain) - 4 * prefix
