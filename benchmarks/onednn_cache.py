"""oneDNN's and ideep's per-shape caches: peak memory and seconds of a real bench run per capacity, side by side.

    python benchmarks/onednn_cache.py [--capacities 1024 64 16] [--steps 24] [--test-items 96]

Each capacity, set for both caches, runs the same `bench run` in its own process (each library reads
its capacity once, at its first primitive), on jemalloc with bench's settings, with a fresh store: a copy of
suites/legal_classifier.yaml holding zero-shot and LoRA, LoRA trained for STEPS steps without
validation passes, the first TEST_ITEMS test items, no probes. Training batches rows of like length,
so nearly every step and every prefill has a shape of its own: the workload the caches grow with.
1,024 is each library's default; bench sets 64 for oneDNN's and 256 for ideep's (harness/core/onednn.py),
so this script's single capacity per run does not reproduce bench's pair.

Prints, per capacity: the process's peak RSS, the manifest's peak per stage, LoRA's seconds per
training step and both variants' prediction seconds. Figures: benchmarks/README.md ("oneDNN's
primitive cache").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.core.allocator import jemalloc_environment, jemalloc_library  # noqa: E402
from harness.core.onednn import CACHES  # noqa: E402


def workload_suite(folder: Path, steps: int, test_items: int) -> Path:
    suite_path = REPO / "suites" / "legal_classifier.yaml"
    suite = yaml.safe_load(suite_path.read_text(encoding="utf-8"))
    data = suite["task"]["data"]
    for split, path in data.items():
        data[split] = str((suite_path.parent / path).resolve())
    suite["task"]["test_limit"] = test_items
    suite["training"].update(max_steps=steps, eval_every=None, select_best=False, early_stopping_patience=None)
    suite.pop("probes", None)
    suite.pop("gate", None)
    suite["variants"] = [v for v in suite["variants"] if v["name"] in ("zero-shot", "lora")]
    out = folder / "suite.yaml"
    out.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return out


def run_with_capacity(suite: Path, folder: Path, capacity: int) -> dict:
    env = {**os.environ, **{name: str(capacity) for name in CACHES.values()}, "PYTHONPATH": str(REPO)}
    library = jemalloc_library()
    if library:
        env.update(jemalloc_environment(env, library))
    run_dir = folder / f"run-{capacity}"
    command = [sys.executable, "-m", "harness.cli.main", "run", str(suite), "--out", str(run_dir)]
    command += ["--store", str(folder / f"store-{capacity}"), "--allow-path", str(REPO / "suites")]
    # The console goes to a file, not a pipe: nothing reads a pipe during wait4, and bench's progress would fill it.
    console_log = folder / f"console-{capacity}.log"
    with console_log.open("w") as console:
        process = subprocess.Popen(command, env=env, stdout=console, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage: its peak RSS alone
    exit_code = process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    if exit_code != 0:
        raise SystemExit(f"capacity {capacity}: bench exited {exit_code}\n{console_log.read_text()[-3000:]}")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    variants = json.loads((run_dir / "results.json").read_text())["variants"]
    lora = variants["lora"]
    return {
        "capacity": capacity,
        "recorded_capacity": {key: manifest.get(key) for key in CACHES},
        "allocator": manifest["allocator"]["name"],
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "stage_peak_rss_mb": manifest["stage_peak_rss_mb"],
        "train_s_per_step": lora["training"]["seconds"] / lora["training"]["steps"],
        "lora_predict_s": lora["cost"]["infer_seconds"],
        "zero_shot_predict_s": variants["zero-shot"]["cost"]["infer_seconds"],
        "lora_accuracy": lora["metrics"]["accuracy"]["value"],
        "zero_shot_accuracy": variants["zero-shot"]["metrics"]["accuracy"]["value"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--capacities", type=int, nargs="+", default=[1024, 64, 16])
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--test-items", type=int, default=96)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-onednn-") as tmp:
        suite = workload_suite(Path(tmp), args.steps, args.test_items)
        for capacity in args.capacities:
            row = run_with_capacity(suite, Path(tmp), capacity)
            rows.append(row)
            stages = ", ".join(f"{k} {v:,.0f}" for k, v in row["stage_peak_rss_mb"].items())
            print(
                f"capacity {capacity:>5}: peak {row['peak_rss_mb']:,.0f} MB ({row['allocator']}); "
                f"{row['train_s_per_step']:.2f} s/step; predict zero-shot {row['zero_shot_predict_s']:.1f} s, "
                f"LoRA {row['lora_predict_s']:.1f} s; accuracy zero-shot {row['zero_shot_accuracy']:.3f}, "
                f"LoRA {row['lora_accuracy']:.3f}\n    stage peaks (MB): {stages}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
