"""The variant store: finished variants found again by content, so a rerun resumes instead of redoing.

A variant's key hashes everything that decides its result: its resolved config
and training, the task, the data fingerprints, the base model, inference and
probe settings, the suite seed, bench's version, and, for retrieval from a file
or folder, the corpus contents. Runs whose output folders share a parent share a
store (``<parent>/.bench-store``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from harness import __version__
from harness.core.files import read_json, read_jsonl, write_json, write_jsonl
from harness.suite.schema import Suite
from harness.variants.base import Variant


def variant_key(spec: Suite, splits_sha256: dict[str, str], variant: Variant) -> str:
    payload = {
        "variant": variant.config.model_dump(mode="json"),
        "training": variant.training_spec().model_dump(mode="json") if variant.trains else None,
        "task": spec.task.model_dump(mode="json"),
        "data": dict(sorted(splits_sha256.items())),
        "base_model": spec.base_model.model_dump(mode="json"),
        "inference": spec.inference.model_dump(mode="json"),
        "probes": spec.probes.model_dump(mode="json") if variant.trains else None,
        "seed": spec.seed,
        "code": __version__,
    }
    retrieval = variant.retrieval
    if retrieval is not None and variant.retrieval_spec().corpus != "train":
        # The config names a corpus file or folder; its contents decide what the variant retrieves.
        payload["corpus"] = retrieval.source_corpus.fingerprint
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


class VariantStore:
    """Finished variants by content key. An entry is finished once its result.json exists."""

    def __init__(self, root: Path):
        self.root = root

    def entry(self, key: str) -> Path:
        return self.root / key

    def finished(self, key: str) -> dict | None:
        result = self.entry(key) / "result.json"
        return read_json(result) if result.exists() else None

    def fresh(self, key: str) -> Path:
        """A work folder for ``key``. A killed attempt's leftovers are removed, except
        training checkpoints, from which training resumes."""
        folder = self.entry(key)
        folder.mkdir(parents=True, exist_ok=True)
        for child in folder.iterdir():
            if child.name == "trainer":
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        return folder

    def save(self, key: str, record: dict) -> None:
        folder = self.entry(key)
        write_jsonl(folder / "samples.jsonl", record.pop("samples"))
        write_json(folder / "result.json", {**record, "key": key})  # last: marks the entry finished
        shutil.rmtree(folder / "trainer", ignore_errors=True)  # checkpoints are only for resuming

    def samples(self, key: str) -> list[dict]:
        path = self.entry(key) / "samples.jsonl"
        return read_jsonl(path) if path.exists() else []

    def link_into(self, key: str, target: Path) -> None:
        """Give a run folder its own view of a stored variant: hard links, a copy where they fail."""
        if target.exists():
            shutil.rmtree(target)

        def link(src, dst):
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

        shutil.copytree(self.entry(key), target, copy_function=link, ignore=shutil.ignore_patterns("trainer"))
