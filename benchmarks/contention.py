"""What one competing process does to bench's speed, and what the thread count can win back.

    python benchmarks/contention.py [--limit 64] [--competitor-threads 2] [--json out.json]

The workload is bench's rank scoring (``harness.model.rank.rank_choices``) of
legal_classifier's first N test items, zero-shot, fp32: every kind of forward
pass a run makes, in a minute or so. It runs three times, each in a fresh process:

1. alone, with the threads bench's policy chooses (the available CPUs; harness/core/threads.py);
2. the same, beside one competing process (matrix products on ``--competitor-threads``
   threads, the way a second run or a test process keeps the cores busy);
3. beside the same competitor with ``--threads 1``, the fallback the policy's
   busy-cores warning points to.

Printed: seconds and items/s of each, and the slowdowns against (1). The
competitor is started before and stopped after each measured run; its own
throughput is not reported.
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


def workload(limit: int, threads: int | None) -> dict:
    """Run in a child process: the thread policy, then the scoring."""
    from scoring_throughput import suite_items

    from harness.core.heap import keep_heap_small
    from harness.core.threads import apply_thread_policy
    from harness.model.loading import load_base
    from harness.model.rank import rank_choices

    keep_heap_small()  # as bench run does
    policy = apply_thread_policy(threads)
    _, items, conversations, choices = suite_items(limit)
    base = load_base("smollm2-135m-instruct", dtype="float32")
    rank_choices(base.model, base.tokenizer, conversations[:2], choices, batch_size=2)  # warm-up
    started = time.perf_counter()
    rank_choices(base.model, base.tokenizer, conversations, choices, batch_size=32)
    seconds = time.perf_counter() - started
    return {"threads": policy.threads, "seconds": seconds, "items": len(items), "warnings": list(policy.warnings)}


def measure(limit: int, threads: int | None, competitor_threads: int | None) -> dict:
    competitor = None
    if competitor_threads:
        competitor = subprocess.Popen([sys.executable, "-c", COMPETITOR, str(competitor_threads)])
        time.sleep(3)  # let it reach its loop
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--limit", str(limit)]
            + (["--threads", str(threads)] if threads else []),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    if child.returncode != 0:
        raise SystemExit(f"workload failed: exit {child.returncode}\n{child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=64, help="first N test items of legal_classifier")
    parser.add_argument("--competitor-threads", type=int, default=2)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(workload(args.limit, args.threads)))
        return

    settings = [
        ("alone, policy's threads", None, None),
        (f"beside a {args.competitor_threads}-thread competitor, policy's threads", None, args.competitor_threads),
        (f"beside a {args.competitor_threads}-thread competitor, --threads 1", 1, args.competitor_threads),
    ]
    rows = []
    for name, threads, competitor in settings:
        figures = measure(args.limit, threads, competitor)
        rows.append({"setting": name, **figures, "items_per_second": figures["items"] / figures["seconds"]})
        print(
            f"{name:55s} {figures['threads']} threads {figures['seconds']:7.1f} s "
            f"{rows[-1]['items_per_second']:6.2f} items/s  x{figures['seconds'] / rows[0]['seconds']:.2f}",
            flush=True,
        )
    out = {"rows": rows, "load_average_1min_after": os.getloadavg()[0], "cpus": os.cpu_count()}
    if args.json:
        write_figures(args.json, out)


if __name__ == "__main__":
    main()
