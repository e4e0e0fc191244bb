"""bench run --executor ray on a local two-CPU Ray cluster started here: the same per-item results as the local
executor, a failing variant isolated (exit 3), the store filled on the driver so a rerun reuses every variant."""

from __future__ import annotations

import time

import pytest

from harness.core.files import read_json, read_jsonl

ray = pytest.importorskip("ray")

# The tiny suite's three variants, and a fourth that fails inside its task: peft finds no module to adapt.
BROKEN = """\
  - name: broken
    kind: lora
    r: 4
    target_modules: [no_such_module]
"""


@pytest.fixture(scope="module")
def ray_cluster(tiny_model_dir):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


def leaves(tree, path="") -> dict:
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in leaves(value, f"{path}.{key}").items()}
    if isinstance(tree, list):
        return {k: v for i, value in enumerate(tree) for k, v in leaves(value, f"{path}[{i}]").items()}
    return {path: tree}


def rows(run_dir) -> list[tuple]:
    keep = ("variant", "item_id", "prompt_hash", "raw_output", "parsed", "correct", "format_ok")
    return [tuple(r[k] for k in keep) for r in read_jsonl(run_dir / "samples.jsonl")]


def test_ray_run_gives_the_local_results_and_isolates_a_failure(tiny_suite, tmp_path, ray_cluster, capsys):
    import torch

    from harness.cli.main import main

    # On a GPU machine the local run uses CUDA; the tasks must too (Ray hides GPUs from a task that asks for none).
    gpus = "execution:\n  resources: {num_cpus: 1, num_gpus: 0.25}\n" if torch.cuda.is_available() else ""
    tiny_suite.write_text(tiny_suite.read_text() + BROKEN + gpus)
    started = time.perf_counter()
    assert main(["run", str(tiny_suite), "--out", str(tmp_path / "local"), "--store", str(tmp_path / "a")]) == 3
    local_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ray_run = ["run", str(tiny_suite), "--out", str(tmp_path / "ray"), "--store", str(tmp_path / "b")]
    code = main([*ray_run, "--executor", "ray"])
    ray_seconds = time.perf_counter() - started
    out = "".join(capsys.readouterr())  # bench's console writes to stderr
    assert code == 3, out[-3000:]  # the broken variant failed, the run finished
    with capsys.disabled():
        print(f"\nwall time, tiny suite of 4 variants: local {local_seconds:.1f} s, ray {ray_seconds:.1f} s")
    assert "sent to the cluster" in out and "broken failed" in out

    local, remote = read_json(tmp_path / "local" / "results.json"), read_json(tmp_path / "ray" / "results.json")
    assert list(remote["variants"]) == list(local["variants"]) == ["zero-shot", "few-shot", "lora", "broken"]
    assert rows(tmp_path / "ray") == rows(tmp_path / "local") and len(rows(tmp_path / "ray")) == 27
    for name in ("zero-shot", "few-shot", "lora"):
        assert remote["variants"][name]["status"] == "ok"
        # Counts and shares are equal; log-probability confidences agree to float rounding (Ray gives each
        # task one thread, so the sums run in another order than in the two-thread local process).
        ours, theirs = leaves(remote["variants"][name]["metrics"]), leaves(local["variants"][name]["metrics"])
        assert ours.keys() == theirs.keys()
        for leaf, value in theirs.items():
            assert ours[leaf] == (pytest.approx(value, rel=1e-5) if isinstance(value, float) else value), leaf
    loss = [p["loss"] for p in local["variants"]["lora"]["training"]["loss_curve"]]
    assert [p["loss"] for p in remote["variants"]["lora"]["training"]["loss_curve"]] == pytest.approx(loss, rel=1e-4)
    broken = remote["variants"]["broken"]
    assert broken["status"] == "failed" and "no_such_module" in broken["reason"] and broken["traceback"]
    # The adapter trained on the worker lies in the driver's store entry, linked into the run folder.
    assert (tmp_path / "ray" / "variants" / "lora" / "adapter").is_dir()

    # A rerun through Ray finds every variant in the driver's store: nothing is sent to the cluster.
    assert main([*ray_run[:3], str(tmp_path / "ray2"), *ray_run[4:], "--executor", "ray"]) == 3
    again = read_json(tmp_path / "ray2" / "results.json")["variants"]
    assert all(v["reused"] for v in again.values())
    assert "sent to the cluster" not in "".join(capsys.readouterr())
    assert rows(tmp_path / "ray2") == rows(tmp_path / "ray")


def test_execution_resources_are_checked_against_the_variants(tiny_suite):
    from harness.core.errors import BenchError
    from harness.suite import load_suite
    from harness.variants.base import variant_configs

    tiny_suite.write_text(tiny_suite.read_text() + "execution:\n  variants:\n    lorra: {num_gpus: 1}\n")
    with pytest.raises(BenchError, match="no variant is named lorra"):
        load_suite(tiny_suite, variant_configs())
    tiny_suite.write_text(tiny_suite.read_text().replace("lorra", "lora"))
    spec = load_suite(tiny_suite, variant_configs()).spec
    assert spec.execution.resources_for("lora").ray_options() == {"num_cpus": 1, "num_gpus": 1}
    assert spec.execution.resources_for("zero-shot").ray_options() == {"num_cpus": 1, "num_gpus": 0}


def test_a_worker_refuses_a_suite_or_data_that_differ_from_the_drivers(tiny_suite):
    """Called in this process, as a Ray worker calls it: the checks come before any model is loaded."""
    from harness.core.trust import Trust
    from harness.model.precision import fit_precision
    from harness.run.ray_executor import VariantRequest, evaluate_in_worker
    from harness.suite import load_suite
    from harness.variants.base import variant_configs

    spec, _ = fit_precision(load_suite(tiny_suite, variant_configs()).spec, slow_bf16=False)
    request = VariantRequest(
        suite_path=str(tiny_suite),
        trust=Trust.granted(),
        kind="zero_shot",
        config={"name": "zero-shot", "kind": "zero_shot"},
        slow_bf16=False,
        spec=spec.model_dump(mode="json"),
        data_sha256={"train": "0" * 64},
        settings={},
    )
    outcome = evaluate_in_worker(request)
    assert outcome.status == "refused" and "data" in outcome.reason and "docs/scale.md" in outcome.hint
    tiny_suite.write_text(tiny_suite.read_text().replace("seed: 7", "seed: 8"))  # edited after the driver read it
    outcome = evaluate_in_worker(request)
    assert outcome.status == "refused" and "reads differently" in outcome.reason
