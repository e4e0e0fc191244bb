"""Where a run is tracked: the command line's ``--mlflow [URI]`` and the suite's ``tracking.mlflow`` block.

    --mlflow URI          that store
    --mlflow              the suite's tracking.mlflow.uri if it names one, else the default store
    (no flag)             only if the suite has a tracking.mlflow block: the default store

The default store is SQLite beside the run folder: ``<run folder's parent>/mlflow.db``, with artifacts in
``mlartifacts/`` next to it, so the runs of one suite (``reports/<suite>/<timestamp>``) gather in one
store and MLflow can compare them. A suite's own URI needs the flag: a suite is untrusted input, and a
URI says where results, reports and adapters are sent (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DB = "mlflow.db"
ARTIFACTS = "mlartifacts"


@dataclass(frozen=True)
class MlflowTarget:
    uri: str
    experiment: str
    artifact_location: str | None  # for a new experiment in a SQLite store: beside the database, never the cwd
    note: str | None = None  # what the user should know about the choice (a suite URI left unused)

    @property
    def shown_uri(self) -> str:
        return shown_uri(self.uri)


def default_uri(run_dir: Path) -> str:
    return f"sqlite:///{Path(run_dir).resolve().parent / DEFAULT_DB}"


def mlflow_target(run_dir: Path, config: dict, cli_uri: str | None) -> MlflowTarget | None:
    """``cli_uri``: None without ``--mlflow``, "" for the flag alone, else its value. None: not tracked."""
    suite = (config.get("tracking") or {}).get("mlflow")
    if cli_uri is None and suite is None:
        return None
    suite = suite or {}
    experiment = suite.get("experiment") or config.get("name") or "bench"
    note = None
    if cli_uri:
        uri = cli_uri
    elif cli_uri == "" and suite.get("uri"):
        uri = suite["uri"]
    else:
        uri = default_uri(run_dir)
        if suite.get("uri"):
            note = (
                f"the suite names tracking.mlflow.uri {shown_uri(suite['uri'])}, used only with --mlflow "
                "(a suite cannot send results elsewhere on its own); tracked into the local store instead"
            )
    return MlflowTarget(uri=uri, experiment=experiment, artifact_location=sqlite_artifacts(uri), note=note)


def sqlite_artifacts(uri: str) -> str | None:
    """For a SQLite store, ``mlartifacts/`` beside the database file (MLflow's own default is ./mlruns in
    whatever folder bench was started from); None for other stores, whose server decides."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0].removeprefix("file:")
    if path in ("", ":memory:"):
        return None
    return str(Path(path).expanduser().resolve().parent / ARTIFACTS)


def shown_uri(uri: str) -> str:
    """The URI without a password or token in it (http://user:secret@host), for messages and the manifest."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if parts.netloc and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"***@{host}"))
    return uri
