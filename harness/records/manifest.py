"""Run records on disk: the run folder layout and what the manifest records about the machine.

Layout of one run folder (schemas in docs/records.md; version in each file):
    manifest.json      what ran: suite hash, data fingerprints, resolved config, seeds, versions, machine
    results.json       per-variant metrics with intervals, cost, training history
    samples.jsonl      one row per test item per variant
    variants/<name>/   each variant's own result.json, samples.jsonl and artifacts (adapter)
    report.html        the stakeholder report
Files are written atomically (harness.core.files).
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


RECORDS_SCHEMA_VERSION = 1


def package_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    names = ["bench-harness", "torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes", "lm_eval",
             "datasets", "scikit-learn", "numpy"]
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
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder, capture_output=True, text=True).stdout.strip()
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
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "gpu": gpu, "platform": platform.platform(),
            "python": platform.python_version(), "torch_threads": torch.get_num_threads()}
