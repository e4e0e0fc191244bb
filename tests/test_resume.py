"""Killed runs resume: finished variants are reused, an interrupted training continues from its checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core.files import read_json, read_jsonl
from harness.run.recipe import run_suite

REPO = Path(__file__).resolve().parents[1]


def finished_entries(store: Path) -> list[Path]:
    return sorted(store.glob("*/result.json")) if store.exists() else []


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
    assert lora["training"]["resumed_from_checkpoint"] is True
    assert lora["training"]["steps"] == 3
    assert [p["step"] for p in lora["training"]["loss_curve"]][-1] == 3
    assert not list((tmp_path / ".bench-store").glob("*/trainer")), (
        "checkpoints are removed once the variant is finished"
    )
