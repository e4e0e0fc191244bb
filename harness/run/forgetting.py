"""The forgetting stage: lm-eval probes on the base model once, then on each trained variant.

The base's scores are computed once per (base model and its files, probe
tasks, limit, bench's code) and kept in the variant store, sealed like a
variant's entry, so reruns and other suites on the same base reuse them and a
planted or altered entry is recomputed. A trained variant is probed while its weights are active, and compared
with the base item by item (``harness.probes.compare``); a variant whose
log-likelihoods equal the base's fails loudly, since that means lm-eval scored
the base weights.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Callable

from harness import __version__
from harness.core.files import read_json, write_json
from harness.model.fingerprint import weights_fingerprint
from harness.run.store import UntrustedEntry, VariantStore, code_fingerprint
from harness.suite.schema import ProbeSpec, Suite


def probe_key(base_model: dict, tasks: list[str], limit: int | None, model_files: str) -> str:
    payload = {
        "base_model": base_model,
        "tasks": tasks,
        "limit": limit,
        "model_files": model_files,
        "code": {"version": __version__, "sha256": code_fingerprint()},
    }
    return "probes-" + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def base_probe_scores(
    base, spec: Suite, progress, store: VariantStore, run_dir: Path, *, warn: Callable[[str], object] = print
) -> dict | None:
    """The base model's probe scores, computed once and cached; lm-eval samples copied into the run."""
    if not spec.probes.tasks:
        return None
    base_model = spec.base_model.model_dump(mode="json")
    key = probe_key(base_model, spec.probes.tasks, spec.probes.limit, weights_fingerprint(base.source))
    with store.lock(key):
        return _base_probe_scores(base, spec, progress, store, key, run_dir, warn)


def _base_probe_scores(base, spec: Suite, progress, store: VariantStore, key: str, run_dir: Path, warn) -> dict:
    from harness.probes.run import run_probes

    folder = store.entry(key)
    scores_file = folder / "scores.json"
    trusted = False
    if scores_file.exists() and not store.unsealed_attempt(key):
        try:
            store.verify(key)
            trusted = True
        except UntrustedEntry as exc:
            warn(f"[yellow]![/] base probe scores {key} in {store.root} failed verification ({exc}); recomputing")
    if not trusted:
        store.fresh(key)
        with progress.task("probes on the base model", total=None):
            scores = run_probes(
                base.model,
                base.tokenizer,
                spec.probes.tasks,
                limit=spec.probes.limit,
                label="base",
                out_dir=folder / "samples",
            )
        write_json(scores_file, scores)
        store.seal(key)  # last: marks the entry finished and bench's own
    if (folder / "samples").exists():
        shutil.copytree(folder / "samples", run_dir / "probes", dirs_exist_ok=True)
    return read_json(scores_file)


def probe_variant(
    env, probes: ProbeSpec, base_scores: dict, variant_name: str, model, workdir: Path, *, seed: int
) -> dict:
    """Probe the active model and compare it with the base, per task."""
    from harness.probes.compare import compare_to_base
    from harness.probes.run import run_probes

    with env.progress.task(f"probes on {variant_name}", total=None):
        scores = run_probes(
            model, env.base.tokenizer, probes.tasks, limit=probes.limit, label=variant_name, out_dir=workdir / "probes"
        )
    return compare_to_base(base_scores, scores, seed=seed)


def probes_table(base_scores: dict | None, records: list[dict]) -> dict:
    """results.json's "probes": per task, the base score and each variant's delta with its interval."""
    if not base_scores:
        return {}
    table = {}
    for task, base in base_scores.items():
        entry = {
            "metric": base.get("metric"),
            "base": base.get("score"),
            "status": base["status"],
            "reason": base.get("reason"),
            "variants": {},
        }
        for record in records:
            compared = (record.get("probes") or {}).get(task)
            if compared and compared.get("status") == "ok":
                entry["variants"][record["name"]] = {
                    "score": compared["variant"],
                    "delta": compared["delta"],
                    "ci_low": compared["ci_low"],
                    "ci_high": compared["ci_high"],
                    "verdict": compared["verdict"],
                    "n": compared["n"],
                    "adapter_applied": compared["adapter_applied"],
                }
        table[task] = entry
    return table
