"""A finished run folder, logged to MLflow: one parent run, one nested run per variant.

    parent   params: the resolved suite (variants apart), the data splits' fingerprints
             tags: bench.suite, bench.run_dir, bench.git_commit, ...; artifacts: report.html, results.json,
             manifest.json
    variant  params: kind, seed, its config, resolved training and inference settings, prompt, string cost fields
             metrics: every metric with its interval (accuracy, accuracy_lo, accuracy_hi), numeric cost fields
             (cost.*), forgetting probes (probe.*), and per step train_loss, validation_loss, ...
             artifacts: the trained adapter (adapter/, peft's layout), when the variant has one

Everything is read from the run folder through harness.records, after bench wrote it: the folder is the
source of truth, MLflow a copy. mlflow is imported here and only here, when a run is tracked.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from harness.core.errors import BenchError
from harness.records.read import MANIFEST, RESULTS, RunRecord
from harness.records.variant import FAILED, VariantResult
from harness.tracking.flatten import (
    chunks,
    clean_key,
    curve_points,
    flat_metrics,
    flat_params,
    is_number,
    param_value,
    probe_metrics,
)
from harness.tracking.target import MlflowTarget

INSTALL_HINT = "pip install 'bench-harness[tracking]' (or: pip install mlflow-skinny sqlalchemy alembic)"
REPORT = "report.html"
MAX_TAG_LENGTH = 8000  # MLflow's limit on a tag's value
MAX_PARAMS_PER_BATCH, MAX_METRICS_PER_BATCH = 100, 1000  # MLflow's limits on one log_batch request


def require_mlflow() -> None:
    """Fail before a run starts, not after hours of training, when tracking was asked for and cannot happen."""
    try:
        _import_mlflow()
    except ImportError as exc:
        raise BenchError(f"--mlflow needs MLflow, which is not installed ({exc})", hint=INSTALL_HINT) from None


def _import_mlflow():
    # bench runs offline and says what it sends where: MLflow's usage telemetry stays off unless the user
    # turned it on themselves (MLFLOW_DISABLE_TELEMETRY=false).
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow  # noqa: F401  (the optional extra: imported only when a run is tracked)
    from mlflow.tracking import MlflowClient

    return MlflowClient


def log_run(run: RunRecord, target: MlflowTarget) -> dict:
    """Log ``run`` to ``target``; returns what the manifest records. Raises whatever the store raises."""
    client = _import_mlflow()(tracking_uri=target.uri)
    experiment_id = _experiment(client, target)
    manifest = run.manifest
    started = _millis(manifest.created)
    parent = client.create_run(
        experiment_id,
        start_time=started,
        run_name=f"{run.suite_name} {run.path.name}",
        tags=_parent_tags(run),
    ).info.run_id
    try:
        params = flat_params({k: v for k, v in manifest.config.items() if k != "variants"})
        for split, summary in (manifest.data or {}).items():
            params.update(flat_params(summary or {}, f"splits.{split}."))
        _log(client, parent, params=params)
        children = {}
        for name, result in run.results.variants.items():
            children[name] = _log_variant(client, experiment_id, parent, run, result)
        for file in (REPORT, RESULTS, MANIFEST):
            if (run.path / file).is_file():
                client.log_artifact(parent, str(run.path / file))
    except BaseException:
        _terminate_quietly(client, parent, "FAILED")
        raise
    total = (manifest.stages or {}).get("total")
    ended = started + int(total * 1000) if started is not None and is_number(total) else None
    client.set_terminated(parent, "FINISHED", end_time=ended)
    return {
        "uri": target.shown_uri,
        "experiment": target.experiment,
        "experiment_id": experiment_id,
        "run_id": parent,
        "variants": children,
    }


def _log_variant(client, experiment_id: str, parent: str, run: RunRecord, result: VariantResult) -> str:
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    tags = {
        MLFLOW_PARENT_RUN_ID: parent,
        "bench.variant": result.name,
        "bench.kind": result.kind,
        "bench.status": result.status,
    }
    for key in ("reason", "key"):
        if result.get(key):
            tags[f"bench.{key}"] = str(result[key])[:MAX_TAG_LENGTH]
    if result.reused is not None:
        tags["bench.reused"] = param_value(result.reused)
    child = client.create_run(experiment_id, run_name=result.name, tags=tags).info.run_id
    try:
        _log(client, child, params=_variant_params(result), metrics=_variant_metrics(run, result))
        adapter = run.path / "variants" / result.name / "adapter"
        if adapter.is_dir():
            client.log_artifacts(child, str(adapter), artifact_path="adapter")
    except BaseException:
        _terminate_quietly(client, child, "FAILED")
        raise
    client.set_terminated(child, "FAILED" if result.status == FAILED else "FINISHED")
    return child


def _variant_params(result: VariantResult) -> dict[str, str]:
    params = {"kind": result.kind, "status": result.status}
    for key in ("seed", "n_items"):
        if result.get(key) is not None:
            params[key] = param_value(result[key])
    # The variant's own settings; null there means "the suite's", which the resolved sections below hold.
    params.update(flat_params(result.config or {}, "config.", drop_none=True))
    for section in ("training_config", "inference", "prompt"):
        if result.get(section):
            params.update(flat_params(result[section], f"{section.removesuffix('_config')}."))
    cost = result.costs.to_json()
    params.update({clean_key(f"cost.{k}"): param_value(v) for k, v in cost.items() if isinstance(v, str)})
    training = result.training or {}
    params.update(
        {clean_key(f"training.{k}"): param_value(v) for k, v in training.items() if isinstance(v, (bool, str))}
    )
    return params


def _variant_metrics(run: RunRecord, result: VariantResult) -> list[tuple[str, float, int]]:
    """(key, value, step): single values at step 0, training curves at their steps."""
    values = flat_metrics(result.metrics or {})
    values.update(flat_metrics({k: v for k, v in result.costs.to_json().items() if is_number(v)}, "cost."))
    training = result.training or {}
    values.update(
        flat_metrics({k: v for k, v in training.items() if k not in ("loss_curve", "eval_curve")}, "training.")
    )
    for section in ("merge_check", "variability"):
        if isinstance(result.get(section), dict):
            values.update(flat_metrics(result[section], f"{section}."))
    values.update(probe_metrics(run.results.probes_of(result.name)))
    points = [(key, value, 0) for key, value in values.items()]
    return points + [(key, value, step) for key, step, value in curve_points(training)]


def _log(client, run_id: str, *, params: dict[str, str] | None = None, metrics=()) -> None:
    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    for batch in chunks((Param(k, v) for k, v in (params or {}).items()), MAX_PARAMS_PER_BATCH):
        client.log_batch(run_id, params=batch)
    for batch in chunks((Metric(k, v, now, step) for k, v, step in metrics), MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=batch)


def _experiment(client, target: MlflowTarget) -> str:
    found = client.get_experiment_by_name(target.experiment)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(target.experiment, artifact_location=target.artifact_location)
    except Exception:
        found = client.get_experiment_by_name(target.experiment)  # another run created it a moment ago
        if found is None:
            raise
        return found.experiment_id


def _parent_tags(run: RunRecord) -> dict[str, str]:
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NOTE

    manifest = run.manifest
    tags = {
        "bench.suite": run.suite_name,
        "bench.run_dir": str(run.path.resolve()),
        "bench.status": manifest.status or "",
        "bench.version": manifest.bench_version or "",
        MLFLOW_RUN_NOTE: (
            f"bench run of suite `{run.suite_name}`; the records (the source of truth) are in "
            f"`{run.path.resolve()}`. One nested run per variant."
        ),
    }
    if manifest.git_commit:
        tags["bench.git_commit"] = manifest.git_commit
    if (manifest.suite or {}).get("sha256"):
        tags["bench.suite_sha256"] = manifest.suite["sha256"]
    return {k: v[:MAX_TAG_LENGTH] for k, v in tags.items()}


def _terminate_quietly(client, run_id: str, status: str) -> None:
    """Mark a half-logged run as failed if the store still answers; the original error is the one to report."""
    try:
        client.set_terminated(run_id, status)
    except Exception:
        pass


def _millis(created: str | None) -> int | None:
    try:
        return int(datetime.fromisoformat(created).timestamp() * 1000) if created else None
    except ValueError:
        return None
