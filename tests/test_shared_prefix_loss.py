"""bench's training loss (shared prefix run once, answer positions projected) equals trl's."""

from __future__ import annotations

import logging

import pytest
import torch
from transformers.utils.logging import warning_once

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
    from peft import IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig, get_peft_model
    from tiny_model import random_tiny_llama

    base, tokenizer = random_tiny_llama(initializer_range=0.2)
    if kind == "full":
        return base, tokenizer
    if kind in ("prompt_tuning", "prefix_tuning"):
        torch.manual_seed(3)  # the virtual tokens' random start
        config = PromptTuningConfig if kind == "prompt_tuning" else PrefixTuningConfig
        return get_peft_model(base, config(num_virtual_tokens=5, task_type="CAUSAL_LM")), tokenizer
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


@pytest.mark.parametrize("kind", ["prompt_tuning", "prefix_tuning"])
def test_virtual_tokens_join_the_shared_prefix_with_trls_loss_and_gradients(kind, tmp_path):
    """peft's forward puts the virtual tokens in front of every row; here they run once, in the prefix pass,
    and their gradient comes back from every row. Positions after them must be numbered as peft numbers them."""
    from trl import SFTTrainer

    model, tokenizer = lora_model(kind)
    trainer, batch = trl_batch_and_trainer(model, tokenizer, tmp_path)
    model = trainer.model
    model.train()
    theirs, their_grads = loss_and_grads(model, lambda: SFTTrainer.compute_loss(trainer, model, dict(batch)))
    counts: dict = {}
    ours, our_grads = loss_and_grads(model, lambda: shared_prefix_loss(model, dict(batch), counts=counts))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    assert our_grads.keys() == their_grads.keys() and our_grads  # the virtual tokens' parameters, and only those
    for name in their_grads:
        assert their_grads[name].abs().sum() > 0, name
        torch.testing.assert_close(our_grads[name], their_grads[name], rtol=1e-4, atol=1e-6, msg=name)
    # The shared prompt ran once, not once per row.
    assert counts["computed_tokens"] < int(batch["attention_mask"].sum())


def loss_and_grads(model, compute):
    model.zero_grad()
    loss = compute()
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad and p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize("checkpointing", [False, True], ids=["plain", "checkpointed"])
@pytest.mark.parametrize("kind", ["lora", "ia3", "full", "prompt_tuning", "prefix_tuning"])
def test_loss_and_gradients_equal_trls(kind, checkpointing, tmp_path, caplog):
    """With gradient checkpointing the row pass replays each layer against the prefix cache in the
    backward pass: the gradients must still be trl's (un-checkpointed) ones."""
    from trl import SFTTrainer

    model, tokenizer = lora_model(kind)
    trainer, batch = trl_batch_and_trainer(model, tokenizer, tmp_path)
    assert _shared_prefix_length(batch["input_ids"], batch["attention_mask"], batch["labels"]) >= MIN_SHARED_PREFIX
    model = trainer.model
    model.train()
    theirs, their_grads = loss_and_grads(model, lambda: SFTTrainer.compute_loss(trainer, model, dict(batch)))
    if checkpointing:
        model.activation_checkpointing_enable({"use_reentrant": False})
    warning_once.cache_clear()  # transformers warns once per process: a warning an earlier test drew counts here too
    with caplog.at_level(logging.WARNING):
        ours, our_grads = loss_and_grads(model, lambda: shared_prefix_loss(model, dict(batch)))
    # The row pass reads the prefix cache without asking for it back: nothing for transformers to refuse.
    assert not [r for r in caplog.records if "incompatible with gradient checkpointing" in r.getMessage()]
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


def test_checkpointing_keeps_no_row_activations(tmp_path):
    """The point of checkpointing: in the row pass (all rows, most of the tokens) each decoder layer keeps
    one tensor of its input's size for the backward instead of everything it computed; the prefix pass
    (one row, run once per batch) keeps its activations."""
    model, tokenizer = lora_model()
    trainer, batch = trl_batch_and_trainer(model, tokenizer, tmp_path)
    model = trainer.model
    model.train()
    from transformers.modeling_layers import GradientCheckpointingLayer

    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    layers = [m for m in model.modules() if isinstance(m, GradientCheckpointingLayer)]
    rows_in_layer = []  # the batch size of the layer call under way: 1 in the prefix pass
    row_input_size = []

    def enter(_layer, args, kwargs):
        hidden = args[0] if args else kwargs["hidden_states"]
        rows_in_layer.append(hidden.shape[0])
        if hidden.shape[0] > 1:
            row_input_size.append(hidden.numel())

    def leave(*_):
        rows_in_layer.pop()

    for layer in layers:
        layer.register_forward_pre_hook(enter, with_kwargs=True)
        layer.register_forward_hook(leave)

    def saved_in_row_pass() -> int:
        """Activations saved inside the row pass's layers; views of the weights cost nothing and are not counted."""
        total = 0

        def pack(tensor):
            nonlocal total
            if rows_in_layer and rows_in_layer[-1] > 1 and tensor.untyped_storage().data_ptr() not in weights:
                total += tensor.numel()
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            shared_prefix_loss(model, dict(batch))
        return total

    plain = saved_in_row_pass()
    model.activation_checkpointing_enable({"use_reentrant": False})
    checkpointed = saved_in_row_pass()
    assert layers and plain > 0
    assert checkpointed <= len(layers) * max(row_input_size)
    assert checkpointed < plain / 10


def test_training_hands_back_the_base_without_checkpointing(tmp_path):
    """train_sft turns checkpointing on for its training only: a prefix-tuned variant trained next on the
    same base would otherwise lose its virtual tokens in every checkpointed layer."""
    from harness.suite.schema import TrainingSpec
    from harness.training.sft import train_sft

    model, tokenizer = lora_model()
    layers = [m for m in model.modules() if hasattr(m, "gradient_checkpointing")]
    train_sft(model, tokenizer, rows(), spec=TrainingSpec(max_steps=1, batch_size=3), seed=0, output_dir=tmp_path)
    assert layers and not any(layer.gradient_checkpointing for layer in layers)


@pytest.mark.parametrize("kind", ["prompt_tuning", "prefix_tuning"])
def test_virtual_tokens_train_under_checkpointing(kind, tmp_path):
    """train_sft checkpoints prompt and prefix tuning as it does LoRA (the shared-prefix loss keeps their virtual
    tokens out of the checkpointed layers): the layers run checkpointed, the virtual tokens still learn, and the
    steps' losses are the un-checkpointed training's."""
    from transformers.modeling_layers import GradientCheckpointingLayer

    from harness.suite.schema import TrainingSpec
    from harness.training.sft import train_sft

    def train(checkpointing: bool) -> tuple[list[float], torch.Tensor, torch.Tensor, list[bool]]:
        model, tokenizer = lora_model(kind)
        virtual = [p for p in model.parameters() if p.requires_grad]
        before = torch.cat([p.detach().flatten().clone() for p in virtual])
        seen = []  # whether each decoder layer call ran checkpointed
        for layer in (m for m in model.modules() if isinstance(m, GradientCheckpointingLayer)):
            layer.register_forward_pre_hook(lambda module, _: seen.append(module.gradient_checkpointing))
        spec = TrainingSpec(max_steps=3, batch_size=3, learning_rate=0.03, gradient_checkpointing=checkpointing)
        record = train_sft(model, tokenizer, rows(), spec=spec, seed=0, output_dir=tmp_path / str(checkpointing))
        after = torch.cat([p.detach().flatten() for p in virtual])
        return [point["loss"] for point in record.loss_curve], before, after, seen

    losses, before, after, seen = train(checkpointing=True)
    assert seen and any(seen)  # the row passes ran checkpointed (the prefix pass, one row, does not)
    assert not torch.equal(before, after)  # and the virtual tokens learned
    plain_losses, _, plain_after, plain_seen = train(checkpointing=False)
    assert not any(plain_seen)
    assert losses == pytest.approx(plain_losses, rel=1e-4)
    torch.testing.assert_close(after, plain_after, rtol=1e-4, atol=1e-6)
