"""Supervised fine-tuning through trl's SFTTrainer, configured for short answers.

Measured on this CPU (docs/design.md §5): trl's defaults (loss on the whole
sequence) are slower and learn worse on short-answer tasks. So the data goes in
as prompt/completion pairs, which makes trl put the loss on the answer tokens
only. Rows are batched by length, and the loss skips the prompt every row shares
(harness/training/shared_prefix_loss.py); benchmarks/train_throughput.py measures both.

Gradient checkpointing is on by default (``training.gradient_checkpointing``):
a step on eight 464-token legal rows held 6.6 GB for a 135M model without it,
0.65 GB with it (and harness/core/heap.py), for one more forward pass of
compute (benchmarks/memory_profile.py).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness.core.allocator import freed_pages_kept, return_freed_pages
from harness.suite.schema import TrainingSpec
from harness.training.dropout import bulk_mask_dropout
from harness.training.shared_prefix_loss import may_checkpoint, shared_prefix_loss


@dataclass
class TrainingRecord:
    seconds: float  # training time; after a resume, the killed attempt's (up to its checkpoint) plus this one's
    steps: int
    trained_tokens: int  # non-padding tokens of the training rows, prompt included
    computed_tokens: int | None = (
        None  # tokens that ran through the model: fewer, as the shared prefix runs once per batch
    )
    prefix_tokens: int | None = None  # of those, the ones that ran in the shared-prefix pass (never replayed)
    loss_curve: list[dict] = field(default_factory=list)  # {"step", "loss"}
    eval_curve: list[dict] = field(default_factory=list)  # {"step", "eval_loss"} and "eval_accuracy" when scored
    resumed_from_checkpoint: bool = False
    resumed_from_step: int | None = None  # the checkpoint's step, when training continued from one
    best_step: int | None = None  # with select_best: the evaluation whose weights were kept
    stopped_early_at: int | None = None  # with early_stopping_patience: the step training stopped at, if it did
    # Whether the layers ran under gradient checkpointing (a prompt-learning method outside the shared-prefix loss
    # never does, whatever the suite asked): the replayed forward is part of the training's work. None in records
    # written before it was kept.
    checkpointed: bool | None = None

    def to_json(self) -> dict:
        record = {
            "seconds": self.seconds,
            "steps": self.steps,
            "trained_tokens": self.trained_tokens,
            "computed_tokens": self.computed_tokens,
            "prefix_tokens": self.prefix_tokens,
            "loss_curve": self.loss_curve,
            "eval_curve": self.eval_curve,
            "resumed_from_checkpoint": self.resumed_from_checkpoint,
            "resumed_from_step": self.resumed_from_step,
            "best_step": self.best_step,
            "checkpointed": self.checkpointed,
        }
        if self.stopped_early_at is not None:
            record["stopped_early_at"] = self.stopped_early_at
        return record


def prompt_completion_rows(conversations: list[list[dict]], answers: list[str]) -> list[dict]:
    return [
        {"prompt": conv, "completion": [{"role": "assistant", "content": answer}]}
        for conv, answer in zip(conversations, answers)
    ]


def train_sft(
    model,
    tokenizer,
    train_rows: list[dict],
    *,
    spec: TrainingSpec,
    seed: int,
    output_dir: Path,
    eval_rows: list[dict] | None = None,
    on_step: Callable[[int, int], None] | None = None,
    validation_accuracy: Callable[[object], float] | None = None,
) -> TrainingRecord:
    """Train ``model`` in place (a PeftModel, or the full model) and return its history.

    ``validation_accuracy(model)``, given by the caller who knows the task, scores the model on the
    validation items at each evaluation; with ``select_by: validation_accuracy`` it decides which
    weights are kept and when training stops early.
    """
    import datasets
    from datasets import Dataset
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_pt_utils import LengthGroupedSampler
    from trl import SFTConfig, SFTTrainer

    evaluate = bool(eval_rows) and spec.eval_every is not None
    if (spec.select_best or spec.early_stopping_patience) and not evaluate:
        raise ValueError(
            "select_best and early stopping need validation evaluations: "
            "set training.eval_every and task.data.validation"
        )
    # Without evaluations nothing is selected, so select_by has nothing to read.
    if evaluate and spec.select_by == "validation_accuracy" and validation_accuracy is None:
        raise ValueError("select_by: validation_accuracy needs a validation scorer")
    # Prefix tuning feeds its virtual tokens in as a key/value cache, which transformers drops in a checkpointed
    # layer unless the layer only reads it. The shared-prefix loss runs prompt and prefix tuning's virtual tokens in
    # its prefix pass, outside checkpointing, and the checkpointed row pass reads that cache (their gradients equal
    # trl's un-checkpointed ones: tests/test_shared_prefix_loss.py); a method it does not reproduce takes trl's path,
    # where it would silently train nothing, so that one trains without checkpointing.
    checkpointing = spec.gradient_checkpointing and may_checkpoint(model)
    config = SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=spec.epochs,
        max_steps=spec.max_steps or -1,
        learning_rate=spec.learning_rate,
        per_device_train_batch_size=spec.batch_size,
        per_device_eval_batch_size=spec.batch_size,
        gradient_accumulation_steps=spec.gradient_accumulation,
        warmup_steps=spec.warmup_ratio,  # transformers 5: a float below 1 is a ratio of total steps
        include_num_input_tokens_seen="non_padding",
        weight_decay=spec.weight_decay,
        max_length=spec.max_length,
        bf16=spec.bf16,
        activation_checkpointing=checkpointing,  # transformers 5's name for gradient checkpointing
        # Non-reentrant: works without inputs that require grad (a frozen base under LoRA) and with the
        # shared-prefix loss's read-only cache (harness/training/shared_prefix_loss.py).
        activation_checkpointing_kwargs={"use_reentrant": False} if checkpointing else None,
        completion_only_loss=True,
        packing=False,
        # Rows of like length share a batch: on legal_classifier random batches are 29% padding.
        train_sampling_strategy="group_by_length",
        prediction_loss_only=True,
        seed=seed,
        data_seed=seed,
        logging_steps=1,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=spec.eval_every if evaluate else None,
        save_strategy="steps" if spec.checkpoint_every else "no",
        save_steps=spec.checkpoint_every,
        save_total_limit=1 if spec.checkpoint_every else None,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        use_cpu=not _cuda_available(),
    )

    class Progress(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if on_step:
                on_step(state.global_step, state.max_steps)
            return_freed_pages()  # what the step freed, kept for its own reuse until now (core/allocator.py)

    counts = {"computed_tokens": 0, "trl_path_tokens": 0, "prefix_tokens": 0}

    class Trainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            counted = counts if model.training else None  # training work only, not validation passes
            # Over several processes (training.launcher: accelerate) the model is wrapped (DDP, FSDP) and must be
            # called through its wrapper, which the shared-prefix path bypasses: trl's own loss then.
            single = self.args.world_size == 1
            # Validation asks for outputs it then throws away (prediction_loss_only): the loss alone will do,
            # which spares trl's path a [batch, length, vocab] logits tensor (0.7 GB at 8 x 464 tokens).
            loss_only = not return_outputs or (not model.training and self.args.prediction_loss_only)
            loss = shared_prefix_loss(model, inputs, num_items_in_batch, counted) if single and loss_only else None
            if loss is None:
                if counted is not None:
                    counts["trl_path_tokens"] += int(inputs["attention_mask"].sum())
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return (loss, (loss,)) if return_outputs else loss

        def _get_train_sampler(self, train_dataset=None):
            # The trainer's length-grouped sampler draws each epoch's order from the global torch RNG, whose
            # state at an epoch's start a resumed training cannot rebuild: seeded by (seed, epoch) instead.
            sampler = super()._get_train_sampler(train_dataset)
            return EpochSeededSampler.of(sampler, seed) if isinstance(sampler, LengthGroupedSampler) else sampler

    by_accuracy = spec.select_by == "validation_accuracy"
    scorer = validation_scorer(model, validation_accuracy if by_accuracy else None)
    best = (
        keep_best_weights(
            model, higher_is_better=by_accuracy, patience=spec.early_stopping_patience, keep_weights=spec.select_best
        )
        if (spec.select_best or spec.early_stopping_patience)
        else None
    )
    datasets.disable_progress_bars()
    trainer = Trainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if evaluate else None,
        processing_class=tokenizer,
        callbacks=[Progress(), scorer] + ([best] if best else []),
    )
    trainer.remove_callback(PrinterCallback)  # its per-step dicts would drown the progress bars
    # A checkpoint left by a killed attempt at this same variant (same content key, so same config and
    # data): continue from it instead of starting over. The trainer restores weights, optimizer, scheduler,
    # RNG states and the place in the epoch; bench's own state (time spent, tokens counted, validation
    # scores, the best weights so far) comes from the segment file each checkpoint gets beside them.
    resume_from = last_resumable_checkpoint(output_dir) if spec.checkpoint_every is not None else None
    segment = Segment(counts, scorer, best)
    if resume_from is not None:
        segment.load(resume_from)
    trainer.add_callback(segment.callback())
    try:
        # LoRA's dropout masks drawn in bulk: torch draws them one element at a time off Intel (training/dropout.py).
        with freed_pages_kept(), bulk_mask_dropout(model):
            trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    finally:  # an interrupted training must not leave the shared base patched either
        _remove_fused_head_patch(model)
        if checkpointing:  # nor checkpointed: the next variant trained on it decides for itself
            model.activation_checkpointing_disable()
    seconds = segment.seconds()
    if best and spec.select_best:
        best.restore()
    history = trainer.state.log_history
    model.eval()
    return TrainingRecord(
        resumed_from_checkpoint=resume_from is not None,
        resumed_from_step=checkpoint_step(resume_from) if resume_from else None,
        seconds=seconds,
        steps=trainer.state.global_step,
        trained_tokens=int(trainer.state.num_input_tokens_seen or _count_tokens(trainer)),
        computed_tokens=(counts["computed_tokens"] + counts["trl_path_tokens"]) or None,
        prefix_tokens=counts["prefix_tokens"],
        loss_curve=[{"step": h["step"], "loss": h["loss"]} for h in history if "loss" in h],
        eval_curve=[
            {
                "step": h["step"],
                "eval_loss": h["eval_loss"],
                **({"eval_accuracy": scorer.scores[h["step"]]} if h["step"] in scorer.scores else {}),
            }
            for h in history
            if "eval_loss" in h
        ],
        best_step=best.step if best and spec.select_best else None,
        stopped_early_at=best.stopped_at if best else None,
        checkpointed=bool(checkpointing),
    )


def _remove_fused_head_patch(model) -> None:
    """Give the model back its own forward after trl replaced it.

    SFTTrainer sets an instance attribute ``forward`` on the model (on the base of
    a PeftModel): a closure around the *original object's* bound forward. It stays
    after training, so a deep copy of that model (a full fine-tune's copy of the
    shared base, the merge check's merged copy) kept running the original's
    weights: a trained copy predicted exactly what the base predicts. Deleting the
    attribute restores the class's forward.
    """
    target = model.get_base_model() if hasattr(model, "get_base_model") else model
    target.__dict__.pop("forward", None)


def validation_scorer(model, score: Callable[[object], float] | None):
    """A trainer callback that adds the caller's validation accuracy to each evaluation's metrics.

    The trainer's evaluation computes the loss; predicting the validation items
    as at test time is the caller's job (it knows the task and the inference mode),
    so it comes in as a function. Scores are kept by step (``.scores``) for the eval curve.
    """
    from transformers import TrainerCallback

    class _Scorer(TrainerCallback):
        def __init__(self):
            self.scores: dict[int, float] = {}

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if score is None or metrics is None:
                return
            was_training = model.training
            model.eval()
            try:
                metrics["eval_accuracy"] = self.scores[state.global_step] = float(score(model))
            finally:
                model.train(was_training)

    return _Scorer()


def keep_best_weights(model, *, higher_is_better: bool = False, patience: int | None = None, keep_weights: bool = True):
    """A trainer callback that tracks the best evaluation, copies its weights, and stops after ``patience``
    evaluations without a new best.

    Best is the lowest validation loss, or with ``higher_is_better`` the highest
    validation accuracy (ties keep the earlier step). Kept in memory rather than
    through the trainer's load_best_model_at_end: the trainer looks for the
    adapter file at the checkpoint's top level, where peft does not put a named
    adapter, and then only logs a warning. Only trainable tensors are copied, so
    this is small for adapters (a full fine-tune keeps one extra copy of the
    model). Steps after the last evaluation were never scored, so they give way
    to the best scored weights, as with the trainer's own option.
    """
    from transformers import TrainerCallback

    key = "eval_accuracy" if higher_is_better else "eval_loss"
    sign = -1.0 if higher_is_better else 1.0  # compare as "lower is better"

    class _KeepBest(TrainerCallback):
        def __init__(self):
            self.value = float("inf")
            self.step: int | None = None
            self.weights: dict | None = None
            self.since_best = 0
            self.stopped_at: int | None = None

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            value = (metrics or {}).get(key)
            if value is None:
                return
            if sign * value < self.value:
                self.value, self.step, self.since_best = sign * value, state.global_step, 0
                if keep_weights:
                    self.weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
            else:
                self.since_best += 1
                if patience is not None and self.since_best >= patience:
                    control.should_training_stop = True
                    self.stopped_at = state.global_step

        def restore(self):
            if self.weights is None:
                return
            import torch

            params = dict(model.named_parameters())
            with torch.no_grad():
                for name, value in self.weights.items():
                    params[name].copy_(value)

        def save_state(self, checkpoint: Path) -> dict:
            """What a resumed training needs to go on choosing as this one would: the best so far, its weights
            in ``checkpoint`` (the trainer's own files hold only the current weights)."""
            if self.weights is not None:
                from safetensors.torch import save_file

                save_file({n: w.contiguous() for n, w in self.weights.items()}, str(checkpoint / BEST_WEIGHTS))
            return {
                "value": self.value,
                "step": self.step,
                "since_best": self.since_best,
                "stopped_at": self.stopped_at,
            }

        def load_state(self, saved: dict, checkpoint: Path) -> None:
            self.value, self.step = float(saved["value"]), saved["step"]
            self.since_best, self.stopped_at = int(saved["since_best"]), saved["stopped_at"]
            if keep_weights and (checkpoint / BEST_WEIGHTS).is_file():
                from safetensors.torch import load_file

                self.weights = load_file(str(checkpoint / BEST_WEIGHTS))

    return _KeepBest()


# ----------------------------------------------------------------------------- resuming from a checkpoint
SEGMENT, BEST_WEIGHTS = "bench_segment.json", "bench_best.safetensors"  # bench's files in each checkpoint


class EpochSeededSampler:
    """The trainer's length-grouped order (rows of like length share a batch), drawn from a generator
    seeded by (seed, epoch) rather than the global RNG. The trainer sets the epoch (``set_epoch``) before
    each pass, so a training resumed in its second epoch gets that epoch's order, as an uninterrupted one did."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int):
        self.lengths, self.batch_size, self.seed, self.epoch = lengths, batch_size, seed, 0

    @classmethod
    def of(cls, sampler, seed: int) -> "EpochSeededSampler":
        return cls(list(sampler.lengths), sampler.batch_size, seed)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        import numpy as np
        import torch
        from transformers.trainer_pt_utils import get_length_grouped_indices

        seed = int(np.random.SeedSequence([self.seed, self.epoch]).generate_state(1)[0])
        return iter(
            get_length_grouped_indices(self.lengths, self.batch_size, generator=torch.Generator().manual_seed(seed))
        )


class Segment:
    """Bench's part of a checkpoint: each save writes ``bench_segment.json`` beside the trainer's files
    with the training time so far, the tokens counted, the validation scores and the best-weights state;
    ``load`` carries them into a resumed attempt, so its record covers both segments."""

    def __init__(self, counts: dict, scorer, best):
        self.counts, self.scorer, self.best = counts, scorer, best
        self.earlier_seconds = 0.0
        self.started = time.perf_counter()

    def seconds(self) -> float:
        return self.earlier_seconds + (time.perf_counter() - self.started)

    def load(self, checkpoint: Path) -> None:
        from harness.core.files import read_json

        saved = read_json(checkpoint / SEGMENT)
        self.earlier_seconds = float(saved["seconds"])
        self.counts.update({k: int(v) for k, v in saved["counts"].items()})
        self.scorer.scores.update({int(step): float(v) for step, v in saved["validation_accuracy"].items()})
        if self.best is not None:
            self.best.load_state(saved["best"], checkpoint)

    def callback(self):
        from transformers import TrainerCallback
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

        from harness.core.files import write_json

        segment = self

        class _OnSave(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                if not state.is_world_process_zero:  # one writer; the checkpoint is the first process's
                    return
                folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
                best = segment.best.save_state(folder) if segment.best is not None else None
                # Written last: a checkpoint without it (killed between the trainer's save and this one)
                # is not resumed from (last_resumable_checkpoint).
                write_json(
                    folder / SEGMENT,
                    {
                        "step": state.global_step,
                        "seconds": segment.seconds(),
                        "counts": dict(segment.counts),
                        "validation_accuracy": {str(k): v for k, v in segment.scorer.scores.items()},
                        "best": best,
                    },
                )

        return _OnSave()


def checkpoint_step(checkpoint: Path) -> int:
    return int(checkpoint.name.rsplit("-", 1)[1])


def last_resumable_checkpoint(output_dir: Path) -> Path | None:
    """The latest checkpoint that bench finished writing (its segment file is there), or None.

    Any other checkpoint folder is removed: resuming from it would lose bench's part of the state, and
    left in place the trainer's rotation (save_total_limit) would keep it over the new attempt's."""
    import shutil

    if not output_dir.is_dir():
        return None
    checkpoints = sorted(
        (p for p in output_dir.glob("checkpoint-*") if p.name.rsplit("-", 1)[1].isdigit()), key=checkpoint_step
    )
    resumable = next((p for p in reversed(checkpoints) if (p / SEGMENT).is_file() and not p.is_symlink()), None)
    if os.environ.get("RANK", "0") != "0":
        return resumable  # under `accelerate launch` every process asks; only the first one removes
    for stale in checkpoints:
        if stale != resumable:
            stale.unlink() if stale.is_symlink() or not stale.is_dir() else shutil.rmtree(stale)
    return resumable


def _count_tokens(trainer) -> int:
    """Tokens in the tokenised training set times epochs run (trl keeps input_ids)."""
    dataset = trainer.train_dataset
    per_epoch = sum(len(ids) for ids in dataset["input_ids"])
    epochs = trainer.state.epoch or 1.0
    return int(per_epoch * epochs)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
