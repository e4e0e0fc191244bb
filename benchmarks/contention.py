"""What one competing process does to bench's speed, and what the thread count can win back.

    python benchmarks/contention.py [--limit 64] [--competitor bench|matmul] [--competitor-threads 2] [--json out.json]

The workload is bench's rank scoring (``harness.model.rank.rank_choices``) of
legal_classifier's first N test items, zero-shot, fp32: every kind of forward
pass a run makes, in a minute or so. Each measurement runs in a fresh process:

1. alone, with the threads bench's policy chooses (the available CPUs; harness/core/threads.py);
2. beside one competing process on ``--competitor-threads`` threads, with the policy's threads;
3. beside it with ``--threads 1``;
4. with ``--competitor bench``, also both on one thread, and both on the policy's threads with
   ``OMP_WAIT_POLICY=PASSIVE`` (waiting OpenMP threads sleep instead of spinning).

Every process sets bench's short OpenMP spin as the ``bench`` command does
(harness/core/threads.py, ``short_spin``); the settings marked "OpenMP's default
spin" turn it off in both (``BENCH_SHORT_SPIN=0``), which is how bench ran before.

The competitor is ``bench`` (the same scoring in a loop: a second run or a test
process, many short parallel regions) or ``matmul`` (1024x1024 matrix products:
few, long parallel regions). Printed: seconds and items/s of each, and the
slowdowns against (1). The competitor is started before and stopped after each
measured run; its own throughput is not reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring_throughput import write_figures  # noqa: E402

COMPETITOR = """
import torch, sys
torch.set_num_threads(int(sys.argv[1]))
a = torch.randn(1024, 1024)
while True:
    a = (a @ a).tanh()
"""


def prepared_scoring(limit: int, threads: int | None):
    """In a child process, set up as ``bench run`` sets up (the short spin before torch loads, the heap
    setting, the thread policy), then load the items and the model. Returns the policy, the item count and
    ``score(first=None, batch_size=32)``, which scores the first items (all by default)."""
    from harness.core.threads import short_spin

    short_spin()  # as the bench command does, before torch loads (BENCH_SHORT_SPIN=0 in the env: OpenMP's default)
    from scoring_throughput import suite_items

    from harness.core.heap import keep_heap_small
    from harness.core.threads import apply_thread_policy
    from harness.model.loading import load_base
    from harness.model.rank import rank_choices

    keep_heap_small()  # as bench run does
    policy = apply_thread_policy(threads)
    _, items, conversations, choices = suite_items(limit)
    base = load_base("smollm2-135m-instruct", dtype="float32")

    def score(first: int | None = None, batch_size: int = 32) -> None:
        rank_choices(base.model, base.tokenizer, conversations[:first], choices, batch_size=batch_size)

    return policy, len(items), score


def workload(limit: int, threads: int | None) -> dict:
    """Run in a child process: the thread policy, then the scoring, timed."""
    policy, n_items, score = prepared_scoring(limit, threads)
    score(first=2, batch_size=2)  # warm-up
    started = time.perf_counter()
    score()
    seconds = time.perf_counter() - started
    return {"threads": policy.threads, "seconds": seconds, "items": n_items, "warnings": list(policy.warnings)}


def competitor_loop(limit: int, threads: int) -> None:
    """Run in a child process: the same scoring as the workload, over and over (a second bench)."""
    _, _, score = prepared_scoring(limit, threads)
    print("ready", flush=True)
    while True:
        score()


def start_competitor(kind: str, threads: int, limit: int, env: dict) -> subprocess.Popen:
    if kind == "matmul":
        competitor = subprocess.Popen([sys.executable, "-c", COMPETITOR, str(threads)], env=env)
        time.sleep(3)  # let it reach its loop
        return competitor
    competitor = subprocess.Popen(
        [sys.executable, __file__, "--competitor-loop", "--limit", str(limit), "--threads", str(threads)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    competitor.stdout.readline()  # "ready": loaded, about to score
    return competitor


def measure(
    limit: int, threads: int | None, competitor: str | None, competitor_threads: int, env_extra: dict | None = None
) -> dict:
    env = {**os.environ, **(env_extra or {})}
    running = start_competitor(competitor, competitor_threads, limit, env) if competitor else None
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--limit", str(limit)]
            + (["--threads", str(threads)] if threads else []),
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    finally:
        if running is not None:
            running.kill()
            running.wait()
    if child.returncode != 0:
        raise SystemExit(f"workload failed: exit {child.returncode}\n{child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=64, help="first N test items of legal_classifier")
    parser.add_argument("--competitor", choices=("bench", "matmul"), default="bench")
    parser.add_argument("--competitor-threads", type=int, default=2)
    parser.add_argument("--competitor-loop", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(workload(args.limit, args.threads)))
        return
    if args.competitor_loop:
        competitor_loop(args.limit, args.threads)
        return

    kind, n = args.competitor, args.competitor_threads
    beside = f"beside a {n}-thread {kind} competitor"
    default_spin = {"BENCH_SHORT_SPIN": "0"}  # libgomp's own spin, as before bench set a short one
    settings = [
        ("alone, policy's threads", None, None, n, None),
        ("alone, policy's threads, OpenMP's default spin", None, None, n, default_spin),
        (f"{beside}, policy's threads", None, kind, n, None),
        (f"{beside}, policy's threads, OpenMP's default spin", None, kind, n, default_spin),
        (f"{beside}, --threads 1", 1, kind, n, None),
    ]
    if kind == "bench":
        settings += [
            ("beside a 1-thread bench competitor, --threads 1", 1, kind, 1, None),
            (
                f"{beside}, policy's threads, both OMP_WAIT_POLICY=PASSIVE",
                None,
                kind,
                n,
                {"OMP_WAIT_POLICY": "PASSIVE"},
            ),
        ]
    rows = []
    for name, threads, competitor, competitor_threads, env_extra in settings:
        figures = measure(args.limit, threads, competitor, competitor_threads, env_extra)
        rows.append({"setting": name, **figures, "items_per_second": figures["items"] / figures["seconds"]})
        print(
            f"{name:70s} {figures['threads']} threads {figures['seconds']:7.1f} s "
            f"{rows[-1]['items_per_second']:6.2f} items/s  x{figures['seconds'] / rows[0]['seconds']:.2f}",
            flush=True,
        )
    out = {"rows": rows, "load_average_1min_after": os.getloadavg()[0], "cpus": os.cpu_count()}
    if args.json:
        write_figures(args.json, out)


if __name__ == "__main__":
    main()
