"""The LM head receives contiguous rows while bench answers (harness/model/lm_head.py).

transformers slices the last positions out of the hidden states as a strided view; torch's
CPU bf16 linear with frozen weights multiplies the whole block behind such a view (865 MB
and 1.5 s on legal_classifier's LoRA instead of 1 MB and 6 ms). These tests pin the
condition that avoids it: every call of the head during generate, rank and sample sees a
contiguous tensor, the answers do not change, and the hook is gone afterwards.
"""

from __future__ import annotations

import pytest
import torch
from test_inference import conversations

from harness.model.generate import generate
from harness.model.lm_head import contiguous_head_input
from harness.model.rank import rank_choices
from harness.model.sample import sample_generations


@pytest.fixture(scope="module")
def frozen_bf16_tiny():
    """The tiny Llama as a peft adapter leaves the base: bf16 weights that do not require grad."""
    from tiny_model import random_tiny_llama

    model, tokenizer = random_tiny_llama(initializer_range=0.2)
    model = model.to(torch.bfloat16).eval()
    model.requires_grad_(False)
    return model, tokenizer


def _record_head_inputs(model) -> tuple[list[bool], object]:
    seen: list[bool] = []
    handle = model.get_output_embeddings().register_forward_hook(
        lambda _m, args, _o: seen.append(args[0].is_contiguous())
    )
    return seen, handle


def test_transformers_hands_the_head_a_strided_view_outside_the_hook(frozen_bf16_tiny):
    """The condition the hook exists for: without it, a batched prefill passes a non-contiguous slice."""
    model, _ = frozen_bf16_tiny
    seen, handle = _record_head_inputs(model)
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 12]])
    with torch.inference_mode():
        model(input_ids=ids, logits_to_keep=1)
    handle.remove()
    assert seen == [False]


@pytest.mark.parametrize("answer", ["generate", "rank", "sample"])
def test_every_head_call_sees_contiguous_rows_while_answering(frozen_bf16_tiny, answer):
    model, tokenizer = frozen_bf16_tiny
    convs = conversations(5)
    seen, handle = _record_head_inputs(model)
    if answer == "generate":
        generate(model, tokenizer, convs, batch_size=3, max_new_tokens=4)
    elif answer == "rank":
        rank_choices(model, tokenizer, convs, ["kind: alpha", "kind: beta"], batch_size=3)
    else:
        sample_generations(model, tokenizer, convs, samples=2, temperature=0.7, batch_size=4, max_new_tokens=3, seed=1)
    handle.remove()
    assert seen and all(seen)
    assert not model.get_output_embeddings()._forward_pre_hooks  # removed once the answers are back


def test_the_copy_changes_no_logit(frozen_bf16_tiny):
    model, _ = frozen_bf16_tiny
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 12]])
    with torch.inference_mode():
        strided = model(input_ids=ids, logits_to_keep=1).logits
        with contiguous_head_input(model):
            copied = model(input_ids=ids, logits_to_keep=1).logits
    assert torch.equal(strided, copied)


@pytest.mark.parametrize("kind", ["prompt_tuning", "prefix_tuning"])
def test_the_prompt_learning_wrapper_hands_its_head_contiguous_rows(kind):
    """Prompt and prefix tuning answer through a wrapper with its own generate (variants/prompt_learning.py); the
    hook must reach the base's head through it, or each prefill's head multiplies the whole prompt block."""
    from peft import PrefixTuningConfig, PromptTuningConfig, get_peft_model
    from tiny_model import random_tiny_llama

    from harness.variants.prompt_learning import VirtualTokenGenerator

    base, tokenizer = random_tiny_llama(initializer_range=0.2)
    config = PromptTuningConfig if kind == "prompt_tuning" else PrefixTuningConfig
    model = get_peft_model(base.to(torch.bfloat16), config(num_virtual_tokens=4, task_type="CAUSAL_LM")).eval()
    model.requires_grad_(False)
    wrapper = VirtualTokenGenerator(model)
    seen, handle = _record_head_inputs(base)
    generate(wrapper, tokenizer, conversations(5), batch_size=3, max_new_tokens=4)
    handle.remove()
    assert seen and all(seen)
    assert not base.get_output_embeddings()._forward_pre_hooks


def test_a_model_without_an_lm_head_is_left_alone():
    class Wrapper:  # a generate-only wrapper that exposes no head
        pass

    answered = []
    with contiguous_head_input(Wrapper()):
        answered.append(True)
    assert answered == [True]
