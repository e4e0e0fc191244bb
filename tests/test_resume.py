"""Killed runs resume: finished variants are reused, an interrupted training continues from its checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from harness.core.files import read_json, read_jsonl
from harness.run.recipe import run_suite

REPO = Path(__file__).resolve().parents[1]


def finished_entries(store: Path) -> list[Path]:
    """Results of sealed entries: the seal is written last, so an entry with a result but no seal is unfinished."""
    return sorted(seal.with_name("result.json") for seal in store.glob("*/seal.json")) if store.exists() else []


def test_sigkill_then_rerun_reuses_finished_variants(tiny_suite, tmp_path):
    run_dir, store = tmp_path / "run", tmp_path / ".bench-store"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", "run", str(tiny_suite), "--out", str(run_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not finished_entries(store) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_with = {read_json(p)["name"]: read_json(p) for p in finished_entries(store)}
    assert killed_with and len(killed_with) < 3, "the kill must land after the first variant and before the last"
    assert not (run_dir / "results.json").exists()
    assert read_json(run_dir / "manifest.json")["status"] == "running"

    result = run_suite(tiny_suite, run_dir)
    variants = result.results["variants"]
    assert {name for name, v in variants.items() if v["reused"]} == set(killed_with)
    for name, before in killed_with.items():
        assert variants[name]["metrics"] == before["metrics"]
    assert len(read_jsonl(run_dir / "samples.jsonl")) == 27


def test_interrupted_training_resumes_from_its_checkpoint(tiny_suite, tmp_path, monkeypatch):
    import harness.training.sft as sft  # variants import train_sft from here when they train

    text = tiny_suite.read_text().replace("  eval_every: 3\n", "  eval_every: 3\n  checkpoint_every: 1\n")
    tiny_suite.write_text(text)
    real_train = sft.train_sft

    def interrupted_at_step_two(*args, on_step, **kwargs):
        def step(current, total):
            on_step(current, total)
            if current == 2:
                raise KeyboardInterrupt  # what Ctrl-C does mid-training

        return real_train(*args, on_step=step, **kwargs)

    monkeypatch.setattr(sft, "train_sft", interrupted_at_step_two)
    with pytest.raises(KeyboardInterrupt):
        run_suite(tiny_suite, tmp_path / "run")
    manifest = read_json(tmp_path / "run" / "manifest.json")
    assert manifest["status"] == "interrupted" and manifest["finished_variants"] == ["zero-shot", "few-shot"]
    assert list((tmp_path / ".bench-store").glob("*/trainer/checkpoint-1"))

    monkeypatch.setattr(sft, "train_sft", real_train)
    result = run_suite(tiny_suite, tmp_path / "run")
    lora = result.results["variants"]["lora"]
    assert lora["training"]["resumed_from_checkpoint"] is True and lora["training"]["resumed_from_step"] == 1
    assert lora["cost"]["train_seconds"] == lora["training"]["seconds"]  # both attempts' time (see below)
    assert lora["training"]["steps"] == 3
    assert [p["step"] for p in lora["training"]["loss_curve"]][-1] == 3
    assert not list((tmp_path / ".bench-store").glob("*/trainer")), (
        "checkpoints are removed once the variant is finished"
    )


# ----------------------------------------------------------------------------- a resumed training is faithful
# train_sft on the in-memory tiny Llama (seconds, not a whole run): 12 rows in batches of 4 for 2 epochs is
# 6 steps, a checkpoint at step 5; the interruption comes at step 6, so training resumes from checkpoint-5,
# in the middle of the second epoch, where the trainer's own resume (global-RNG batch order) diverged.
ADAPTER_TOLERANCE = 1e-6  # same arithmetic in the same order on one CPU: equal up to float noise


def tiny_lora(seed: int = 3):
    from peft import LoraConfig, get_peft_model
    from tiny_model import random_tiny_llama

    base, tokenizer = random_tiny_llama(initializer_range=0.2)
    torch.manual_seed(seed)
    # Dropout on, so the RNG states matter too; a named adapter, as bench's variants use.
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    return get_peft_model(base, config, adapter_name="bench_lora"), tokenizer


def rows(count: int, start: int = 0) -> list[dict]:
    from conftest import make_items

    return [
        {"prompt": item["messages"][:1], "completion": item["messages"][1:]}
        for item in make_items("r", count, start=start)
    ]


def smallest_adapter(model) -> float:
    """A 'validation accuracy' that prefers the earliest evaluation (lora_B starts at zero and grows), so the
    best is chosen before the checkpoint and only a restored selection state can still know it."""
    return -float(sum(p.detach().abs().sum() for n, p in model.named_parameters() if "lora_B" in n))


def adapter(model) -> dict:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def train(output_dir: Path, *, interrupt_at: int | None = None, **training):
    from harness.suite.schema import TrainingSpec
    from harness.training.sft import train_sft

    spec = TrainingSpec(
        epochs=2, batch_size=4, learning_rate=0.01, max_length=64, eval_every=2, checkpoint_every=5,
        select_by="validation_accuracy", **training,
    )  # fmt: skip

    def step(current, total):
        if current == interrupt_at:
            raise KeyboardInterrupt  # what Ctrl-C does mid-training

    model, tokenizer = tiny_lora()
    record = train_sft(
        model, tokenizer, rows(12), spec=spec, seed=11, output_dir=output_dir, eval_rows=rows(4, start=100),
        on_step=step, validation_accuracy=smallest_adapter,
    )  # fmt: skip
    return record, adapter(model)


@pytest.mark.parametrize(
    "selection",
    [{}, {"select_best": True, "early_stopping_patience": 2}],
    ids=["plain", "select-best-and-early-stopping"],
)
def test_resumed_training_equals_an_uninterrupted_one_and_its_time_adds_both_segments(tmp_path, selection):
    from harness.training.sft import SEGMENT

    whole, whole_adapter = train(tmp_path / "whole", **selection)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "resumed", interrupt_at=6, **selection)
    [checkpoint] = (tmp_path / "resumed").glob("checkpoint-*")
    assert checkpoint.name == "checkpoint-5"
    first_segment = read_json(checkpoint / SEGMENT)["seconds"]
    started = time.perf_counter()
    resumed, resumed_adapter = train(tmp_path / "resumed", **selection)
    second_segment = time.perf_counter() - started

    assert resumed.resumed_from_checkpoint and resumed.resumed_from_step == 5 and not whole.resumed_from_checkpoint
    assert resumed_adapter.keys() == whole_adapter.keys()
    for name, tensor in whole_adapter.items():
        assert torch.allclose(resumed_adapter[name], tensor, rtol=0, atol=ADAPTER_TOLERANCE), name
    assert resumed.loss_curve == whole.loss_curve and resumed.eval_curve == whole.eval_curve
    assert all("eval_accuracy" in point for point in resumed.eval_curve)  # scores from before the checkpoint too
    assert (resumed.steps, resumed.trained_tokens, resumed.computed_tokens) == (
        whole.steps,
        whole.trained_tokens,
        whole.computed_tokens,
    )
    assert (resumed.best_step, resumed.stopped_early_at) == (whole.best_step, whole.stopped_early_at)
    if selection:
        assert whole.best_step == 2 and whole.stopped_early_at == 6  # chosen, and counted, across the checkpoint
    # The record's time is the first attempt's up to its checkpoint plus the whole second attempt.
    assert 0 < first_segment < resumed.seconds <= first_segment + second_segment


def test_a_checkpoint_without_benchs_segment_file_is_not_resumed_and_is_removed(tmp_path):
    """Killed between the trainer's save and bench's (or left by anything else): starting over is the
    faithful choice, and the folder must go, or the trainer's rotation would keep it over the new ones."""
    from harness.training.sft import SEGMENT, last_resumable_checkpoint

    for step in (2, 3, 10):
        (tmp_path / f"checkpoint-{step}").mkdir()
    (tmp_path / "checkpoint-3" / SEGMENT).write_text("{}")
    assert last_resumable_checkpoint(tmp_path) == tmp_path / "checkpoint-3"  # 10 sorts after 3 by number, not text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-3"]
    (tmp_path / "checkpoint-3" / SEGMENT).unlink()
    assert last_resumable_checkpoint(tmp_path) is None and not list(tmp_path.iterdir())
