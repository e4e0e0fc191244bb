"""Read one run folder into memory: manifest, results, per-item samples, item inputs.

The report reads what ``bench run`` wrote and nothing else. The one extra it
tries is the test file named in the manifest, to show the input text next to
an example; it is used only when its fingerprint still matches the run's, so an
example never shows a text the model did not see.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl


@dataclass
class RunFolder:
    path: Path
    manifest: dict
    results: dict
    samples: list[dict]
    # item_id -> the last user message of the test item, when the test file is still the one the run used
    inputs: dict[str, str] = field(default_factory=dict)
    inputs_note: str | None = None  # why inputs are missing, when they are

    @property
    def name(self) -> str:
        return self.path.name

    def samples_of(self, variant: str) -> dict[str, dict]:
        """The variant's rows by item_id (the key every paired comparison joins on)."""
        return {row["item_id"]: row for row in self.samples if row["variant"] == variant}


def load_run(path: str | Path) -> RunFolder:
    path = Path(path)
    if not path.is_dir():
        raise BenchError(f"run folder not found: {path}", hint="pass the folder `bench run` printed, e.g. reports/<suite>/<timestamp>")
    results_path = path / "results.json"
    if not results_path.exists():
        raise BenchError(f"{path} has no results.json, so there is nothing to report",
                         hint="the run may still be going or was stopped; rerun `bench run` with the same --out to finish it")
    try:
        results = read_json(results_path)
        manifest = read_json(path / "manifest.json") if (path / "manifest.json").exists() else {}
        samples = read_jsonl(path / "samples.jsonl") if (path / "samples.jsonl").exists() else []
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BenchError(f"{path}: a record file is not valid JSON ({exc})", hint="the run folder may be damaged; rerun `bench run`") from None
    if not isinstance(results, dict) or "variants" not in results:
        raise BenchError(f"{results_path} does not look like bench results (no 'variants')")
    run = RunFolder(path=path, manifest=manifest, results=results, samples=samples)
    run.inputs, run.inputs_note = _test_inputs(manifest)
    return run


def _test_inputs(manifest: dict) -> tuple[dict[str, str], str | None]:
    test = (manifest.get("data") or {}).get("test")
    if not test or not test.get("path"):
        return {}, "the manifest names no test file"
    file = Path(test["path"])
    try:
        raw = file.read_bytes()
    except OSError:
        return {}, f"the test file {file} is not on this machine"
    if test.get("sha256") and hashlib.sha256(raw).hexdigest() != test["sha256"]:
        return {}, f"the test file {file} has changed since the run"
    inputs = {}
    for line_no, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            users = [m["content"] for m in row["messages"][:-1] if m.get("role") == "user"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # the run validated this file; a bad line here only costs one example's input
        # Same id rule as harness.data.splits: an explicit id, else "<split>-<line>".
        inputs[str(row.get("id", f"test-{line_no}"))] = users[-1] if users else ""
    return inputs, None
