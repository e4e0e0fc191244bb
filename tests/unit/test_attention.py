"""On a CPU, grouped key/value heads go to torch's attention kernel as they are, with a mask: same numbers."""

from __future__ import annotations

import torch

from harness.model.attention import FORCE_GQA_ENV, read_grouped_heads_as_they_are
from tests.tiny_model import random_tiny_llama


def test_the_switch_is_turned_on_for_a_cpu_only_and_a_users_setting_is_kept():
    env: dict[str, str] = {}
    assert read_grouped_heads_as_they_are("cpu", env) and env == {FORCE_GQA_ENV: "1"}
    env = {}
    assert not read_grouped_heads_as_they_are("cuda", env) and env == {}  # CUDA's masked path would be slower
    env = {FORCE_GQA_ENV: "0"}
    assert not read_grouped_heads_as_they_are("cpu", env) and env == {FORCE_GQA_ENV: "0"}


def test_a_masked_pass_with_grouped_heads_computes_what_the_copied_heads_did(monkeypatch):
    model, _ = random_tiny_llama(seed=0)  # 4 query heads over 2 key/value heads
    assert model.config.num_key_value_heads < model.config.num_attention_heads
    ids = torch.randint(5, 200, (3, 20))
    mask = torch.ones(3, 20, dtype=torch.long)
    mask[0, :6] = 0  # left padding: the pass needs its mask
    seen_gqa = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def spy(*args, **kwargs):
        seen_gqa.append((kwargs.get("enable_gqa", False), kwargs.get("attn_mask") is not None))
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)

    def loss_and_grads(force: str):
        monkeypatch.setenv(FORCE_GQA_ENV, force)
        model.zero_grad()
        loss = model(input_ids=ids, attention_mask=mask, labels=ids).loss
        loss.backward()
        return loss.item(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    copied_loss, copied_grads = loss_and_grads("0")
    assert seen_gqa and all(gqa is False and masked for gqa, masked in seen_gqa)  # repeat_kv's copies
    seen_gqa.clear()
    grouped_loss, grouped_grads = loss_and_grads("1")
    assert seen_gqa and all(gqa is True and masked for gqa, masked in seen_gqa)  # the switch reached torch
    assert grouped_loss == copied_loss
    for a, b in zip(grouped_grads, copied_grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
