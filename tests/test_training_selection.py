"""Checkpoint selection by validation accuracy, and early stopping, on the tiny model.

The tiny random model answers badly, so its validation accuracy barely moves;
what these tests pin down is the bookkeeping: every evaluation carries the
accuracy predicted as at test time, the kept step is the best one (the earliest
on ties), and training stops exactly ``patience`` evaluations after it.
"""

from __future__ import annotations

import pytest

from harness.core.files import read_json
from harness.run.recipe import run_suite

SELECTION = """\
  - name: lora-best
    kind: lora
    r: 4
    alpha: 8
    training: {eval_every: 1, max_steps: 8, select_best: true, select_by: validation_accuracy,
               early_stopping_patience: 2}
"""


@pytest.fixture
def run(tiny_suite):
    text = tiny_suite.read_text()
    text = text[: text.index("variants:\n")] + "variants:\n" + SELECTION
    tiny_suite.write_text(text)
    return read_json(run_suite(tiny_suite, tiny_suite.parent / "run").run_dir / "results.json")


def test_each_evaluation_records_validation_accuracy_and_the_best_step_is_kept(run):
    training = run["variants"]["lora-best"]["training"]
    curve = training["eval_curve"]
    assert curve and all(0.0 <= point["eval_accuracy"] <= 1.0 for point in curve)
    best = max(curve, key=lambda point: (point["eval_accuracy"], -point["step"]))  # earliest among the best
    assert training["best_step"] == best["step"]


def test_training_stops_patience_evaluations_after_the_best(run):
    training = run["variants"]["lora-best"]["training"]
    curve = training["eval_curve"]
    after_best = [p for p in curve if p["step"] > training["best_step"]]
    if training.get("stopped_early_at") is None:  # the best came too late for patience to run out
        assert len(after_best) < 2 and curve[-1]["step"] == 8
    else:
        assert len(after_best) == 2 and training["stopped_early_at"] == after_best[-1]["step"] == curve[-1]["step"]
        assert training["steps"] == training["stopped_early_at"] < 8


def test_early_stopping_without_evaluations_is_refused(tiny_suite):
    from harness.core.errors import BenchError
    from harness.suite import load_suite
    from harness.variants.base import variant_configs

    tiny_suite.write_text(tiny_suite.read_text().replace("  eval_every: 3\n", "  early_stopping_patience: 2\n"))
    with pytest.raises(BenchError) as error:
        load_suite(tiny_suite, variant_configs())
    assert "early_stopping_patience needs eval_every" in str(error.value)
