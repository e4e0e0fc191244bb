"""How long the forgetting probes take for one model, and what bench adds over lm-eval.

    python benchmarks/probe_speed.py [MODEL_DIR] [--limit 100] [--batch-size 8] [--bf16]

Times bench's run_probes over every shipped bench_* probe on the real SmolLM2
model, then lm-eval's CLI-equivalent call (simple_evaluate on the same
in-memory model, same tasks, same limit) for comparison. The issue's target:
probes for one variant under 60 s on the 2-core CPU. --bf16 runs both under
bf16 autocast, as a suite with inference.bf16 (the shipped ones) does.

CPU seconds are printed next to wall seconds: on a shared machine the wall time
also counts other processes' load (shown as the 1-minute load average).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_MODEL = Path.home() / ".cache" / "bench" / "models" / "smollm2-135m-instruct"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = cpu_seconds() - self.cpu

    def __str__(self):
        return f"{self.wall:6.1f} s wall  {self.cpu:6.1f} s cpu  (load {os.getloadavg()[0]:.1f})"


def forward_throughput(model) -> float:
    """Tokens/s of plain forward passes (batch 8 x 40 tokens), to read the timings against.

    On a shared machine this drops with the load; on a quiet one SmolLM2-135M
    fp32 gives about 700 tokens/s on the 2-core CPU.
    """
    import torch

    x = torch.randint(100, 20000, (8, 40))
    with torch.no_grad():
        model(x)
        start = time.perf_counter()
        for _ in range(3):
            model(x)
    return 3 * x.numel() / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL, help="saved HF model folder")
    parser.add_argument("--limit", type=int, default=100, help="first N items of each task")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--tasks", help="comma-separated subset (default: all bench_ probes)")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast for both, as inference.bf16 does")
    args = parser.parse_args()
    if not (args.model / "config.json").exists():
        sys.exit(f"no model at {args.model}; pass a saved model folder (bench models pull smollm2-135m-instruct)")

    import lm_eval
    import torch
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.model.generate import inference_precision
    from harness.probes.run import list_probe_tasks, rendered_task_dir, run_probes, task_manager

    tasks = args.tasks.split(",") if args.tasks else list_probe_tasks()
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(args.model)
    print(
        f"model {args.model}, {torch.get_num_threads()} threads, limit {args.limit}, batch {args.batch_size}, "
        f"{'bf16 autocast' if args.bf16 else 'fp32'}"
    )
    print(f"forward throughput before: {forward_throughput(model):.0f} tokens/s")

    with tempfile.TemporaryDirectory() as out, inference_precision(args.bf16), Timer() as ours:
        scores = run_probes(
            model, tok, tasks, limit=args.limit, label="base", out_dir=Path(out), batch_size=args.batch_size
        )
    for task, s in scores.items():
        print(f"  {task:24s} {s['metric']:12s} {s['score']:.3f}  n={s['n']}")
    print(f"bench run_probes, all tasks:        {ours}")

    with inference_precision(args.bf16), Timer() as direct:
        lm = HFLM(pretrained=model, tokenizer=tok, batch_size=args.batch_size, device="cpu")
        lm_eval.simple_evaluate(model=lm, tasks=tasks, limit=args.limit, task_manager=task_manager(False))
    print(f"lm-eval simple_evaluate directly:   {direct}")
    print(f"(tasks rendered at {rendered_task_dir()})")
    print(f"forward throughput after:  {forward_throughput(model):.0f} tokens/s")

    for task in tasks:  # per task, to see where the time goes
        with tempfile.TemporaryDirectory() as out, Timer() as one:
            run_probes(
                model, tok, [task], limit=args.limit, label="base", out_dir=Path(out), batch_size=args.batch_size
            )
        print(f"  {task:24s} {one}")


if __name__ == "__main__":
    main()
