"""manifest.json: what ran, on what, with what; and what it records about the machine.

Layout of one run folder (schemas in docs/records.md; version in each file):
    manifest.json      what ran: suite hash, data fingerprints, resolved config, seeds, versions, machine
    results.json       per-variant metrics with intervals, cost, training history
    samples.jsonl      one row per test item per variant
    variants/<name>/   each variant's own result.json, samples.jsonl and artifacts (adapter)
    report.html        the stakeholder report
Files are written atomically (harness.records.write, through harness.core.files).
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from harness.records.base import JsonRecord

RECORDS_SCHEMA_VERSION = 1
RUNNING, COMPLETE, INTERRUPTED = "running", "complete", "interrupted"


@dataclass(frozen=True)
class Manifest(JsonRecord):
    schema_version: int | None = None
    bench_version: str | None = None
    created: str | None = None  # UTC, ISO 8601
    suite: dict | None = None  # {name, path, sha256 of the suite file's bytes}
    resolved_config: dict | None = None  # the whole validated suite, grid-expanded, defaults filled in
    data: dict | None = None  # per split: {path, sha256, items, labels}
    seeds: dict | None = None  # {suite, variants: {name: seed}}
    packages: dict | None = None
    git_commit: str | None = None  # of the suite's repository, "-dirty" if modified; None outside git
    machine: dict | None = None
    status: str | None = None  # running | complete | interrupted
    finished_variants: list[str] | None = None  # interrupted runs: the variants whose results are whole
    stages: dict | None = None  # wall seconds per stage
    # Peak resident memory (MB) of the process during each stage: load_data, load_model, base_probes, and
    # variant:<name>:prepare|predict|probes|recheck for the variants this run computed (run/recipe.py).
    stage_peak_rss_mb: dict | None = None
    # The thread policy (harness/core/threads.py): threads, source, available/affinity CPUs, cgroup quota,
    # the 1-minute load average and the other processes' CPU use at start, busy, warnings.
    threads: dict | None = None
    # {mlflow: {uri, experiment, experiment_id, run_id, variants: {name: run_id}}}, or {mlflow: {uri, error}};
    # written after the run, only when it was tracked (docs/tracking.md)
    tracking: dict | None = None

    WRITTEN_WHEN_NONE: ClassVar = frozenset({"git_commit"})

    @property
    def suite_name(self) -> str | None:
        return (self.suite or {}).get("name")

    @property
    def finished(self) -> bool:
        """Whole records to read: complete, or interrupted with the variants it finished. A running one may change."""
        return self.status in (COMPLETE, INTERRUPTED)

    @property
    def test_data(self) -> dict:
        """The test split's fingerprint as the run recorded it: path, sha256, items."""
        return (self.data or {}).get("test") or {}

    @property
    def config(self) -> dict:
        """The resolved suite; empty when the manifest lacks it."""
        return self.resolved_config or {}

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))

    @property
    def base_model(self) -> dict:
        return self.config.get("base_model") or {}


def package_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    names = [
        "bench-harness",
        "torch",
        "transformers",
        "peft",
        "trl",
        "accelerate",
        "bitsandbytes",
        "lm_eval",
        "datasets",
        "scikit-learn",
        "numpy",
    ]
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_commit(folder: Path) -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder, capture_output=True, text=True
    ).stdout.strip()
    return result.stdout.strip() + ("-dirty" if dirty else "")


def machine() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "gpu": gpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch_threads": torch.get_num_threads(),
    }
