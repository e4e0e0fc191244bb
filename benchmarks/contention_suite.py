"""A whole ``bench run`` beside one competing process, before and after bench's thread policy.

    python benchmarks/contention_suite.py [--suite suites/legal_classifier.yaml] [--test-items 40]
                                          [--train-steps 8] [--competitor bench|matmul] [--json out.json]

benchmarks/contention.py measures one kind of work (rank scoring). This one
times what a user waits for: the ``bench`` command running a suite end to end
(loading, the classical baselines, zero-shot and few-shot generation, LoRA
training with its validation passes, predictions, forgetting probes, the
report), each run a fresh process with a fresh store so nothing is reused:

1. alone, as bench runs now (the policy's threads, OpenMP's short spin);
2. beside the competitor, both as bench runs now;
3. beside the competitor, both with OpenMP's default spin (``BENCH_SHORT_SPIN=0``),
   which is how bench ran before the policy (its threads were torch's default,
   all the CPUs, which on a machine without a CPU quota is the same count);
4. alone with OpenMP's default spin, so (3) against (4) is the old slowdown.

The competitor is contention.py's: a second bench scoring the same items in a
loop (``bench``; many short parallel regions, like a test process or a second
run) or a loop of matrix products (``matmul``). It starts before the measured
run and is stopped after it.

A whole legal_classifier run takes 30 to 70 minutes on two cores, and two or
three times that beside a competitor, so by default the suite is cut to a
slice written into a temporary folder: the first ``--test-items`` test items,
the first 20 validation items, LoRA trained for ``--train-steps`` steps and
validated every half of them, probes on their first 20 items; every other
setting is the suite's. ``--test-items 0`` runs the suite as it is.

Printed per setting: wall seconds, the slowdown against (1) and the seconds of
each variant's stage as the run's manifest records them (training and
predictions; the lora stage is where training shows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from contention import start_competitor  # noqa: E402
from scoring_throughput import write_figures  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(sys.executable).with_name("bench")
VALIDATION_ITEMS = 20
PROBE_ITEMS = 20


def sliced_suite(suite: Path, folder: Path, test_items: int, train_steps: int) -> Path:
    """A copy of ``suite`` in ``folder`` on the first items of its splits and a short training."""
    spec = yaml.safe_load(suite.read_text())
    if test_items == 0:
        return suite
    data = spec["task"]["data"]
    firsts = {"test": test_items, "validation": VALIDATION_ITEMS, "train": None}
    for split, first in firsts.items():
        if split not in data:
            continue
        lines = (suite.parent / data[split]).read_text().splitlines()
        copy = folder / f"{split}.jsonl"
        copy.write_text("\n".join(lines[:first] if first else lines) + "\n")
        data[split] = str(copy)
    training = spec.setdefault("training", {})
    training["max_steps"] = train_steps
    if training.get("eval_every"):
        training["eval_every"] = max(train_steps // 2, 1)
    if "probes" in spec:
        spec["probes"]["limit"] = PROBE_ITEMS
    copy = folder / suite.name
    copy.write_text(yaml.safe_dump(spec, sort_keys=False))
    return copy


def timed_run(suite: Path, folder: Path, env: dict) -> dict:
    """``bench run`` in a fresh process with a fresh store; its wall seconds and the manifest's stage seconds."""
    out, store = folder / "run", folder / "store"
    started = time.perf_counter()
    run = subprocess.run(
        [str(BENCH), "run", str(suite), "--out", str(out), "--store", str(store)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"bench run failed: exit {run.returncode}\n{run.stderr[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    # stages: load_data, load_model, variant:<name> (its training and predictions), total (docs/records.md)
    return {"seconds": seconds, "threads": manifest["threads"], "stages": manifest["stages"]}


def measure(suite: Path, competitor: str | None, env_extra: dict, competitor_items: int) -> dict:
    env = {**os.environ, **env_extra}
    with tempfile.TemporaryDirectory(prefix="bench-contention-") as folder:
        running = start_competitor(competitor, 2, competitor_items, env) if competitor else None
        try:
            return timed_run(suite, Path(folder), env)
        finally:
            if running is not None:
                running.kill()
                running.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", type=Path, default=REPO / "suites" / "legal_classifier.yaml")
    parser.add_argument("--test-items", type=int, default=40, help="first N test items; 0: the whole suite")
    parser.add_argument("--train-steps", type=int, default=8)
    parser.add_argument("--competitor", choices=("bench", "matmul"), default="bench")
    parser.add_argument("--competitor-items", type=int, default=8, help="the bench competitor's scoring loop")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    default_spin = {"BENCH_SHORT_SPIN": "0"}  # libgomp's own spin, as before bench set a short one
    beside = f"beside a {args.competitor} competitor"
    settings = [
        ("alone, short spin (bench now)", None, {}),
        (f"{beside}, both short spin (bench now)", args.competitor, {}),
        (f"{beside}, both OpenMP's default spin (bench before)", args.competitor, default_spin),
        ("alone, OpenMP's default spin (bench before)", None, default_spin),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-slice-") as slice_folder:
        suite = sliced_suite(args.suite.resolve(), Path(slice_folder), args.test_items, args.train_steps)
        for name, competitor, env_extra in settings:
            figures = measure(suite, competitor, env_extra, args.competitor_items)
            rows.append({"setting": name, **figures})
            stages = "  ".join(
                f"{stage.removeprefix('variant:')} {seconds:.0f} s"
                for stage, seconds in figures["stages"].items()
                if stage.startswith("variant:")
            )
            print(
                f"{name:60s} {figures['seconds']:7.1f} s  x{figures['seconds'] / rows[0]['seconds']:.2f}  {stages}",
                flush=True,
            )
    out = {
        "suite": str(args.suite),
        "test_items": args.test_items,
        "train_steps": args.train_steps,
        "rows": rows,
        "load_average_1min_after": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    if args.json:
        write_figures(args.json, out)


if __name__ == "__main__":
    main()
