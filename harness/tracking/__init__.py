"""Experiment tracking: a finished run, copied into the tracker a team already uses (MLflow; docs/tracking.md).

A consumer like the report: it reads the run folder through harness.records after
``bench run`` wrote every record, and never the run itself. The folder stays the
source of truth. Tracking never fails a run: whatever goes wrong (no MLflow, a
read-only or unreachable store) is one warning, recorded in the manifest, and the
run keeps its exit code; ``bench track RUN_DIR`` tries again later.

    track_run(run_dir, cli_uri=None | "" | URI, say=print, warn=print) -> manifest entry, or None
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from harness.records.read import read_manifest, read_run
from harness.records.write import record_tracking
from harness.tracking.mlflow_log import INSTALL_HINT, log_run, require_mlflow
from harness.tracking.target import MlflowTarget, default_uri, mlflow_target, shown_uri

__all__ = ["track_run", "require_mlflow", "mlflow_target", "MlflowTarget", "default_uri", "shown_uri"]


def track_run(
    run_dir: str | Path,
    *,
    cli_uri: str | None = None,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> dict | None:
    """Log the run in ``run_dir`` to MLflow when the command line (``cli_uri``, see target.py) or the suite asks.

    Returns the manifest's ``tracking.mlflow`` entry (uri, experiment, run ids), or None when the run was not
    tracked: not asked for, or it failed, which ``warn`` is told in one line.
    """
    run_dir = Path(run_dir)
    # The manifest alone says whether to track; the whole run (samples included) is read only then.
    target = mlflow_target(run_dir, read_manifest(run_dir).config, cli_uri)
    if target is None:
        return None
    if target.note:
        warn(f"mlflow: {target.note}")
    try:
        entry = log_run(read_run(run_dir), target)
    except ImportError as exc:
        return _failed(run_dir, target, f"MLflow is not installed ({exc}); {INSTALL_HINT}", warn)
    except Exception as exc:  # a tracker's failure is never the run's: its records are whole in run_dir
        return _failed(run_dir, target, _reason(exc), warn)
    try:
        record_tracking(run_dir, {"mlflow": entry})
    except Exception as exc:  # the run is in MLflow; only its ids are missing from the manifest
        warn(f"mlflow: could not write the MLflow run ids into {run_dir}/manifest.json: {_reason(exc)}")
    say(
        f"mlflow: run {entry['run_id']} ({len(entry['variants'])} variant runs) in experiment "
        f"'{entry['experiment']}' at {entry['uri']}"
    )
    return entry


def _failed(run_dir: Path, target: MlflowTarget, reason: str, warn: Callable[[str], None]) -> None:
    warn(
        f"mlflow: tracking failed at {target.shown_uri}: {reason}; the run's records are whole in {run_dir} "
        f"(to retry: bench track {run_dir} --mlflow URI)"
    )
    try:
        record_tracking(
            run_dir, {"mlflow": {"uri": target.shown_uri, "experiment": target.experiment, "error": reason}}
        )
    except Exception:  # the run folder itself unwritable: the warning above is all there is to say
        pass
    return None


def _reason(exc: BaseException) -> str:
    """The root cause in one line: MLflow wraps a SQLAlchemy error that wraps sqlite3's, whose words are the
    useful ones ("attempt to write a readonly database"), under a first line about autoflush."""
    root, seen = exc, 0
    while seen < 10 and (root.__cause__ or root.__context__) is not None:
        root, seen = root.__cause__ or root.__context__, seen + 1
    first = next((line.strip() for line in str(root).splitlines() if line.strip()), "")
    return f"{type(root).__name__}: {first}"[:300]
