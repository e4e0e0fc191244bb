"""The suite's ``tracking:`` section: copy each finished run into an experiment tracker (docs/tracking.md).

    tracking:
      mlflow:
        experiment: legal-classifier   # default: the suite's name
        uri: sqlite:///reports/mlflow.db   # used only with --mlflow on the command line; see below

A suite is untrusted input (docs/security.md): a tracking URI names where a
run's results, report and adapters are sent. So the suite may *name* a store,
but bench sends there only when the person running it says ``--mlflow``; without
the flag a suite's ``tracking.mlflow`` block tracks into the default local store
beside the run folder, which bench writes anyway.
"""

from __future__ import annotations

from pydantic import Field

from harness.core.config import Strict


class MlflowSpec(Strict):
    uri: str | None = Field(
        default=None,
        max_length=2000,
        description="MLflow tracking URI (sqlite:///PATH, http://HOST:PORT, databricks, ...); used only when "
        "`bench run` is given --mlflow, since a suite cannot send results elsewhere on its own. "
        "Default: a SQLite store beside the run folder",
    )
    experiment: str | None = Field(
        default=None, min_length=1, max_length=500, description="MLflow experiment name (default: the suite's name)"
    )


class TrackingSpec(Strict):
    mlflow: MlflowSpec | None = Field(
        default=None,
        description="log every run to MLflow: one parent run, one nested run per variant (needs the tracking "
        "extra: pip install 'bench-harness[tracking]')",
    )
