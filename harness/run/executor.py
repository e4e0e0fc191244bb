"""Where variant jobs run.

A variant is an independent job. The recipe says what a job means for the store
(``VariantJobs``: its key, its lock, a finished entry to reuse, how to evaluate it
and save its record); an executor only decides where evaluations happen. The
local one runs them in order in this process, sharing the loaded base model; the
Ray one (``harness/run/ray_executor.py``) sends each to a task on a cluster and
saves what comes back exactly as the local one saves its own.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

from harness.variants.base import Variant


@dataclass(frozen=True)
class VariantJobs:
    """The store's side of every variant, the same whichever executor runs it."""

    lock: Callable[[Variant], AbstractContextManager]  # held while the variant is computed and saved
    reusable: Callable[[Variant], dict | None]  # its finished, verified record, or None
    workdir: Callable[[Variant], Path]  # a fresh store entry to fill
    evaluate: Callable[[Variant, Path], dict]  # in this process: the record (a failure becomes a not-run record)
    not_run: Callable[[Variant, str, str], dict]  # the record of a variant that was skipped or failed
    save: Callable[[Variant, dict], dict]  # seals the entry; the stored record


class Executor(Protocol):
    def run(self, variants: list[Variant], jobs: VariantJobs) -> Iterator[dict]:
        """Every variant's stored record, as each finishes (not necessarily in the suite's order)."""
        ...


class LocalExecutor:
    def run(self, variants: list[Variant], jobs: VariantJobs) -> Iterator[dict]:
        for variant in variants:
            with jobs.lock(variant):
                done = jobs.reusable(variant)
                if done is None:
                    workdir = jobs.workdir(variant)
                    done = jobs.save(variant, jobs.evaluate(variant, workdir))
                yield done
