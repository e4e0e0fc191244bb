"""bench's training loss (shared prefix run once, answer positions projected) equals trl's."""

from __future__ import annotations

import pytest
import torch

from harness.training.shared_prefix_loss import MIN_SHARED_PREFIX, _shared_prefix_length, shared_prefix_loss

SYSTEM = (
    "You sort short notes into three kinds. Answer with one line 'kind: <label>', where the label is "
    "alpha (fruit), beta (building materials) or gamma (weather). Read the whole note first."
)
NOTES = [
    "apples again",
    "a long note about bricks and mortar and walls and more bricks",
    "clouds",
    "rain today",
    "pears and plums",
    "concrete blocks, many of them",
]
LABELS = ["alpha", "beta", "gamma", "gamma", "alpha", "beta"]


def rows() -> list[dict]:
    return [
        {
            "prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": note}],
            "completion": [{"role": "assistant", "content": f"kind: {label}"}],
        }
        for note, label in zip(NOTES, LABELS)
    ]


def lora_model(kind: str = "lora"):
    """A tiny random Llama with weights large enough that every token matters, under LoRA (dropout 0, so
    both paths see the same function) with non-zero B so the adapter changes the prefix's keys."""
    from peft import IA3Config, LoraConfig, get_peft_model
    from tiny_model import random_tiny_llama

    base, tokenizer = random_tiny_llama(initializer_range=0.2)
    if kind == "full":
        return base, tokenizer
    adapter = (
        LoraConfig(
            r=4,
            lora_alpha=8,
            lora_dropout=0.0,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
            task_type="CAUSAL_LM",
            init_lora_weights=False,
        )
        if kind == "lora"
        else IA3Config(
            target_modules=["k_proj", "v_proj", "down_proj"], feedforward_modules=["down_proj"], task_type="CAUSAL_LM"
        )
    )
    return get_peft_model(base, adapter), tokenizer


def trl_batch_and_trainer(model, tokenizer, tmp_path):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=len(NOTES),
        completion_only_loss=True,
        gradient_checkpointing=False,
        report_to="none",
        use_cpu=True,
        bf16=False,
        max_length=256,
    )
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows()), processing_class=tokenizer)
    batch = next(iter(trainer.get_train_dataloader()))
    return trainer, {k: v for k, v in batch.items() if isinstance(v, torch.Tensor)}


def loss_and_grads(model, compute):
    model.zero_grad()
    loss = compute()
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad and p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize("kind", ["lora", "ia3", "full"])
def test_loss_and_gradients_equal_trls(kind, tmp_path):
    from trl import SFTTrainer

    model, tokenizer = lora_model(kind)
    trainer, batch = trl_batch_and_trainer(model, tokenizer, tmp_path)
    assert _shared_prefix_length(batch["input_ids"], batch["attention_mask"], batch["labels"]) >= MIN_SHARED_PREFIX
    model = trainer.model
    model.train()
    ours, our_grads = loss_and_grads(model, lambda: shared_prefix_loss(model, dict(batch)))
    theirs, their_grads = loss_and_grads(model, lambda: SFTTrainer.compute_loss(trainer, model, dict(batch)))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    assert our_grads.keys() == their_grads.keys() and our_grads
    for name in their_grads:
        torch.testing.assert_close(our_grads[name], their_grads[name], rtol=1e-4, atol=1e-6, msg=name)


def test_token_normalisation_follows_num_items_in_batch(tmp_path):
    model, tokenizer = lora_model()
    trainer, batch = trl_batch_and_trainer(model, tokenizer, tmp_path)
    mean = shared_prefix_loss(trainer.model, dict(batch))
    scored = int((batch["labels"][:, 1:] != -100).sum())
    over_twice = shared_prefix_loss(trainer.model, dict(batch), num_items_in_batch=2 * scored)
    assert over_twice.item() == pytest.approx(mean.item() / 2, rel=1e-6)


def test_prefix_stops_before_the_first_differing_or_scored_column():
    ids = torch.tensor([[1, 2, 3, 4, 9], [1, 2, 3, 5, 9]])
    mask = torch.ones_like(ids)
    labels = torch.full_like(ids, -100)
    assert _shared_prefix_length(ids, mask, labels) == 2  # columns 0-2 agree; one is kept back
    labels[:, 2] = 7
    assert _shared_prefix_length(ids, mask, labels) == 1  # a scored column ends the prefix
    assert _shared_prefix_length(torch.tensor([[1, 2], [3, 2]]), torch.ones(2, 2), torch.full((2, 2), -100)) == 0


def test_training_leaves_no_forward_patch_that_a_deep_copy_would_carry(tmp_path):
    """trl patches the model's forward for its fused head; a copy of the base made later (full fine-tuning,
    the merge check) must run its own weights, not the original object's."""
    import copy

    from harness.suite.schema import TrainingSpec
    from harness.training.sft import train_sft

    model, tokenizer = lora_model()
    base = model.get_base_model()
    train_sft(model, tokenizer, rows(), spec=TrainingSpec(max_steps=1, batch_size=3), seed=0, output_dir=tmp_path)
    assert "forward" not in base.__dict__
    twin = copy.deepcopy(base)
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(torch.randn_like(p))  # the copy's own weights must change its output
        ids = torch.tensor([[1, 2, 3, 4]])
        assert not torch.allclose(twin(ids).logits, base(ids).logits)
