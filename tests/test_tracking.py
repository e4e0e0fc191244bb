"""MLflow tracking: a tiny-model run logged to a real SQLite MLflow store, read back with MlflowClient.

One run (zero-shot and LoRA) serves every test that needs one; a second run reuses its variants from the
same variant store, so it costs a model load and a report, not a training.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from conftest import TINY_SUITE, make_items, write_jsonl

from harness.cli.main import main
from harness.core.files import read_json
from harness.tracking.flatten import MAX_PARAM_LENGTH, clean_key, curve_points, flat_metrics, flat_params
from harness.tracking.target import mlflow_target, shown_uri

needs_mlflow = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None,
    reason="MLflow is not installed: pip install 'bench-harness[tracking]' (the dev extra, which CI installs)",
)
VARIANTS = ["zero-shot", "lora"]


@pytest.fixture(scope="module")
def tracked(tiny_model_dir, tmp_path_factory):
    """`bench run SUITE --mlflow` on the tiny suite, whose tracking: block names the experiment."""
    if importlib.util.find_spec("mlflow") is None:
        pytest.skip("MLflow is not installed: pip install 'bench-harness[tracking]'")
    root = tmp_path_factory.mktemp("tracking")
    write_jsonl(root / "data" / "train.jsonl", make_items("train", 12))
    write_jsonl(root / "data" / "validation.jsonl", make_items("val", 6, start=100))
    write_jsonl(root / "data" / "test.jsonl", make_items("test", 9, start=200))
    suite = root / "tiny.yaml"
    suite.write_text(TINY_SUITE.format(model=tiny_model_dir) + "tracking:\n  mlflow:\n    experiment: tiny-tracking\n")
    run_dir, store = root / "runs" / "run1", root / "variant-store"
    argv = ["run", str(suite), "--out", str(run_dir), "--only", *VARIANTS, "--store", str(store), "--mlflow"]
    assert main(argv) == 0
    return {"suite": suite, "run_dir": run_dir, "store": store, "db": root / "runs" / "mlflow.db"}


def client_for(db):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{db}")


def runs_of(client, experiment: str) -> dict:
    """{"parent": run, "children": {name: run}} of the experiment's one bench run."""
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, [r.info.run_name for r in runs]
    children = {r.info.run_name: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id}
    assert len(children) == len(runs) - 1, "every other run is nested under the parent"
    return {"parent": parents[0], "children": children, "experiment": exp}


@needs_mlflow
def test_run_with_mlflow_logs_one_parent_and_one_nested_run_per_variant(tracked):
    client = client_for(tracked["db"])
    found = runs_of(client, "tiny-tracking")
    parent, children = found["parent"], found["children"]
    assert sorted(children) == sorted(VARIANTS)
    assert {r.info.status for r in [parent, *children.values()]} == {"FINISHED"}
    # Artifacts of the default SQLite store live beside it, not in the folder bench was started from.
    assert found["experiment"].artifact_location.endswith("runs/mlartifacts")
    # The manifest records the ids; bench's own records are whole.
    manifest = read_json(tracked["run_dir"] / "manifest.json")
    assert manifest["status"] == "complete"
    assert manifest["tracking"]["mlflow"]["run_id"] == parent.info.run_id
    assert manifest["tracking"]["mlflow"]["variants"] == {n: r.info.run_id for n, r in children.items()}
    # The resolved suite as the parent's params, with the data's fingerprints.
    params = parent.data.params
    assert params["seed"] == "7" and params["task.type"] == "classification"
    assert params["training.learning_rate"] == "0.001" and params["task.labels"] == '["alpha", "beta", "gamma"]'
    assert params["tracking.mlflow.experiment"] == "tiny-tracking"
    assert params["splits.test.sha256"] == manifest["data"]["test"]["sha256"]
    assert parent.data.tags["bench.run_dir"] == str(tracked["run_dir"].resolve())
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"report.html", "results.json", "manifest.json"} <= artifacts


@needs_mlflow
def test_each_variant_run_has_its_settings_metrics_with_bounds_cost_and_loss_history(tracked):
    client = client_for(tracked["db"])
    children = runs_of(client, "tiny-tracking")["children"]
    results = read_json(tracked["run_dir"] / "results.json")["variants"]
    for name, run in children.items():
        record, metrics = results[name], run.data.metrics
        assert run.data.params["kind"] == record["kind"] and run.data.params["seed"] == str(record["seed"])
        assert run.data.params["inference.max_new_tokens"] == "6"
        for key in ("accuracy", "macro_f1", "format_compliance", "invalid_rate"):
            m = record["metrics"][key]
            assert (metrics[key], metrics[f"{key}_lo"], metrics[f"{key}_hi"]) == (m["value"], m["ci_low"], m["ci_high"])
        assert metrics["per_class.alpha.f1"] == record["metrics"]["per_class"]["alpha"]["f1"]
        assert metrics["cost.infer_seconds"] == record["cost"]["infer_seconds"] > 0
        assert run.data.params["cost.inference_mode"] == record["cost"]["inference_mode"]
    lora, training = children["lora"], results["lora"]["training"]
    assert lora.data.params["config.r"] == "4" and lora.data.params["training.eval_every"] == "3"
    assert "config.training.epochs" not in lora.data.params, "an unset override is not a param"
    history = client.get_metric_history(lora.info.run_id, "train_loss")
    assert [(h.step, h.value) for h in history] == [(p["step"], p["loss"]) for p in training["loss_curve"]]
    assert len(history) == 3
    validation = client.get_metric_history(lora.info.run_id, "validation_loss")
    assert [(h.step, h.value) for h in validation] == [(p["step"], p["eval_loss"]) for p in training["eval_curve"]]
    assert lora.data.metrics["cost.train_seconds"] == results["lora"]["cost"]["train_seconds"]
    assert client.get_metric_history(children["zero-shot"].info.run_id, "train_loss") == []


@needs_mlflow
def test_the_trained_adapter_is_logged_byte_for_byte(tracked):
    from mlflow.artifacts import download_artifacts

    client = client_for(tracked["db"])
    children = runs_of(client, "tiny-tracking")["children"]
    local = tracked["run_dir"] / "variants" / "lora" / "adapter"
    run_id = children["lora"].info.run_id
    logged = download_artifacts(run_id=run_id, artifact_path="adapter", tracking_uri=f"sqlite:///{tracked['db']}")
    files = {p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()}
    assert any(name.endswith("adapter_model.safetensors") for name in files)
    assert {p.relative_to(logged).as_posix(): p.read_bytes() for p in Path(logged).rglob("*") if p.is_file()} == files
    assert client.list_artifacts(children["zero-shot"].info.run_id) == []


@needs_mlflow
def test_a_read_only_store_warns_and_the_run_keeps_its_records_and_exit_code(tracked, tmp_path, monkeypatch, capsys):
    # SQLite's own read-only mode: refused writes even for root (CI runs as root, where chmod does not bind).
    # MLflow makes the folder of the path it reads from the URI, here the relative "file:..."; keep it in tmp_path.
    monkeypatch.chdir(tmp_path)
    read_only = f"sqlite:///file:{tracked['db']}?mode=ro&uri=true"
    run_dir = tmp_path / "run2"
    argv = ["run", str(tracked["suite"]), "--out", str(run_dir), "--only", *VARIANTS, "--store", str(tracked["store"])]
    assert main([*argv, "--mlflow", read_only]) == 0
    said = " ".join((lambda c: c.out + c.err)(capsys.readouterr()).split())
    assert "mlflow: tracking failed" in said and "readonly database" in said, said
    manifest, results = read_json(run_dir / "manifest.json"), read_json(run_dir / "results.json")
    assert manifest["status"] == "complete" and "readonly database" in manifest["tracking"]["mlflow"]["error"]
    assert [results["variants"][n]["status"] for n in VARIANTS] == ["ok", "ok"]
    assert (run_dir / "report.html").is_file()
    # The store holds the first run only; `bench track` then logs this one to a writable store.
    client = client_for(tracked["db"])
    assert len(client.search_runs([client.get_experiment_by_name("tiny-tracking").experiment_id])) == 3
    other = tmp_path / "other" / "mlflow.db"
    assert main(["track", str(run_dir), "--mlflow", f"sqlite:///{other}"]) == 0
    found = runs_of(client_for(other), "tiny-tracking")
    assert sorted(found["children"]) == sorted(VARIANTS)
    assert read_json(run_dir / "manifest.json")["tracking"]["mlflow"]["run_id"] == found["parent"].info.run_id


def test_mlflow_flag_without_mlflow_installed_stops_before_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    assert main(["run", str(tmp_path / "suite.yaml"), "--mlflow"]) == 2
    said = " ".join((lambda c: c.out + c.err)(capsys.readouterr()).split())
    assert "--mlflow needs MLflow" in said and "bench-harness[tracking]" in said, said


def test_a_misspelt_tracking_key_is_refused_with_its_line(tiny_suite, capsys):
    tiny_suite.write_text(tiny_suite.read_text() + "tracking:\n  mlflow:\n    experimnt: x\n")
    assert main(["validate", str(tiny_suite)]) == 2
    said = " ".join((lambda c: c.out + c.err)(capsys.readouterr()).split())
    assert "experimnt" in said and "experiment" in said and "tiny.yaml:" in said, said


def test_the_store_is_the_command_lines_choice_never_the_suites_alone(tmp_path):
    run_dir = tmp_path / "reports" / "suite" / "run"
    config = {"name": "suite", "tracking": {"mlflow": {"uri": "http://collector.example:5000", "experiment": None}}}
    default = f"sqlite:///{(tmp_path / 'reports' / 'suite' / 'mlflow.db').resolve()}"
    assert mlflow_target(run_dir, {"name": "suite"}, None) is None, "neither the flag nor the suite asks"
    plain = mlflow_target(run_dir, {"name": "suite"}, "")
    assert (plain.uri, plain.experiment, plain.note) == (default, "suite", None)
    assert plain.artifact_location == str((tmp_path / "reports" / "suite" / "mlartifacts").resolve())
    unflagged = mlflow_target(run_dir, config, None)
    assert unflagged.uri == default and "used only with --mlflow" in unflagged.note
    assert mlflow_target(run_dir, config, "").uri == "http://collector.example:5000"
    assert mlflow_target(run_dir, config, "sqlite:///x.db").uri == "sqlite:///x.db"
    assert mlflow_target(run_dir, config, "").artifact_location is None, "a server keeps its own artifact store"
    assert shown_uri("https://me:s3cret@mlflow.example/") == "https://***@mlflow.example/"


def test_records_flatten_to_mlflow_keys_within_its_limits():
    params = flat_params({"task": {"labels": ["a", "b"], "prompt": "x" * 7000}, "grid": None, "d": {}})
    assert params["task.labels"] == '["a", "b"]' and params["grid"] == "null" and params["d"] == "{}"
    assert len(params["task.prompt"]) == MAX_PARAM_LENGTH and params["task.prompt"].endswith("…")
    assert flat_params({"a": None, "b": {"c": None, "d": 1}}, drop_none=True) == {"b.d": "1"}
    assert clean_key("per_class.naïve label?/..") == "per_class.naïve label_/_"
    metrics = {
        "accuracy": {"value": 0.5, "ci_low": 0.25, "ci_high": 0.75, "n": 8, "method": "wilson"},
        "per_class": {"a": {"f1": 1.0, "support": 3}},
        "confusion": {"labels": ["a"], "matrix": [[3]]},
        "flag": True,
    }
    assert flat_metrics(metrics) == {
        "accuracy": 0.5,
        "accuracy_lo": 0.25,
        "accuracy_hi": 0.75,
        "per_class.a.f1": 1.0,
        "per_class.a.support": 3.0,
    }
    training = {
        "loss_curve": [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}],
        "eval_curve": [{"step": 2, "eval_loss": 1.7, "eval_accuracy": 0.5}],
    }
    assert list(curve_points(training)) == [
        ("train_loss", 1, 2.0),
        ("train_loss", 2, 1.5),
        ("validation_loss", 2, 1.7),
        ("validation_accuracy", 2, 0.5),
    ]
    json.dumps(params)  # plain strings, nothing a store could not take
