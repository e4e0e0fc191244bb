"""What drawing LoRA's dropout masks in bulk is worth (harness/training/dropout.py).

    python benchmarks/lora_dropout.py [--rounds 2] [--steps 6]

Two dropouts, each in its own process started as the ``bench`` command starts
(jemalloc, freed pages kept), alternating round by round so that a host whose
speed drifts drifts over both alike:

- ``torch``: peft's ``nn.Dropout``, torch's CPU dropout (MKL's parallel draw on
  Intel CPUs, one element at a time elsewhere);
- ``bulk`` (bench's): the mask drawn from a seed of torch's generator by numpy
  in one call.

Each trains the first ``--steps`` LoRA steps of legal_classifier as
``train_throughput.py``'s ``bench fp32`` set-up does (r16 on q, k, v, o,
dropout 0.05, batch 8, gradient checkpointing), and first times one dropout
call on the shape of the widest batch's q_proj input. Inside the training, a
forward hook on every dropout module adds up the seconds its forward took (the
mask's draw and its product): the share of the step the lever can save, less
exposed to a drifting host than the wall time. Timings are ratios only with
nothing else running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring_throughput import in_child  # noqa: E402  (each side in its own process)
from train_throughput import load_rows, run_bench  # noqa: E402  (the same training)

DROPOUTS = ("torch", "bulk")
CALL_SHAPE = (8, 363, 576)  # the widest batch's rows after the shared prefix, SmolLM2's hidden size


def one_call_ms(dropout: str) -> float:
    import torch

    from harness.training.dropout import BulkMaskDropout

    module = (torch.nn.Dropout(0.05) if dropout == "torch" else BulkMaskDropout(0.05)).train()
    x = torch.randn(CALL_SHAPE)
    module(x)
    started = time.perf_counter()
    for _ in range(20):
        module(x)
    return (time.perf_counter() - started) / 20 * 1e3


@contextlib.contextmanager
def dropout_seconds():
    """Adds up, into the dict it yields, the seconds spent in every dropout module's forward."""
    import torch

    from harness.training.dropout import BulkMaskDropout

    spent = {"seconds": 0.0, "calls": 0}
    started: dict[int, float] = {}

    def before(module, args):
        if isinstance(module, (torch.nn.Dropout, BulkMaskDropout)):
            started[id(module)] = time.perf_counter()

    def after(module, args, output):
        if id(module) in started:
            spent["seconds"] += time.perf_counter() - started.pop(id(module))
            spent["calls"] += 1

    handles = [
        torch.nn.modules.module.register_module_forward_pre_hook(before),
        torch.nn.modules.module.register_module_forward_hook(after),
    ]
    try:
        yield spent
    finally:
        for handle in handles:
            handle.remove()


def measure_in_this_process(dropout: str, steps: int) -> dict:
    from harness.core.startup import start_like_bench

    start_like_bench(sys.argv, heap=True)  # re-executes on jemalloc where installed, as `bench` does
    import harness.training.sft as sft

    if dropout == "torch":  # peft's own dropout modules stay in place
        sft.bulk_mask_dropout = lambda model: contextlib.nullcontext(0)
    from transformers import AutoTokenizer

    from harness.core.allocator import freed_pages_kept
    from harness.model.provision import resolve_model

    with freed_pages_kept():
        call_ms = one_call_ms(dropout)
    source = resolve_model("smollm2-135m-instruct")
    rows, system = load_rows(steps * 8)
    with dropout_seconds() as spent:
        result = run_bench(source, AutoTokenizer.from_pretrained(source), rows, system, steps, 8, bf16=False)
    return {
        "call_ms": call_ms,
        "dropout_seconds": spent["seconds"],
        "dropout_calls": spent["calls"],
        "seconds": result["seconds"],
        "tokens_per_second": result["tokens_per_second"],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--child", choices=DROPOUTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_in_this_process(args.child, args.steps)))
        return

    runs: dict[str, list[dict]] = {name: [] for name in DROPOUTS}
    for round_ in range(args.rounds):
        order = DROPOUTS if round_ % 2 == 0 else DROPOUTS[::-1]
        for name in order:
            run = in_child(__file__, name, ["--steps", str(args.steps)])
            runs[name].append(run)
            print(
                f"round {round_ + 1} {name:5s}  one call {run['call_ms']:5.2f} ms  {args.steps} steps "
                f"{run['seconds']:6.1f} s, of which dropout {run['dropout_seconds']:5.1f} s ({run['dropout_calls']} calls)  "
                f"{run['tokens_per_second']:5.1f} tokens/s  peak {run['peak_mb']:,.0f} MB",
                flush=True,
            )
    torch_s = statistics.median(r["seconds"] for r in runs["torch"])
    bulk_s = statistics.median(r["seconds"] for r in runs["bulk"])
    torch_d = statistics.median(r["dropout_seconds"] for r in runs["torch"])
    bulk_d = statistics.median(r["dropout_seconds"] for r in runs["bulk"])
    print(
        f"median over {args.rounds} rounds: torch {torch_s:.1f} s (dropout {torch_d:.1f} s), "
        f"bulk {bulk_s:.1f} s (dropout {bulk_d:.1f} s); wall {torch_s / bulk_s:.2f}x, dropout {torch_d / bulk_d:.2f}x"
    )


if __name__ == "__main__":
    main()
