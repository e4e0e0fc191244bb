"""What keeping freed pages inside training steps and prediction batches is worth (harness/core/allocator.py).

    python benchmarks/freed_pages.py [--rounds 2] [--steps 6] [--items 96] [--stages train,predict]

Two page policies, both on jemalloc with bench's ``MALLOC_CONF`` (as the ``bench`` command runs), each
in its own process, alternating round by round so that a machine whose speed drifts (a shared host)
drifts over both alike:

- ``decay``: jemalloc's 30 s decay throughout, as bench ran before: pages freed in a step are returned
  while the next step runs, and faulted in again;
- ``kept`` (bench's): decay off inside each training step and prediction batch, what it freed returned
  at its end (``freed_pages_kept``, ``returning_pages_between``).

Stages: ``train``, the first ``--steps`` LoRA steps of legal_classifier as ``memory_profile.py``'s
``checkpointed`` set-up runs them (fp32, seconds per step after the first); ``predict``, zero-shot
answers to the first ``--items`` test items (batch 32, the suite's 12 new tokens, first-line stop),
after a two-item warm-up. Each line printed: seconds, minor page faults, system and user seconds of the
stage, and the process's peak RSS. Timings are ratios only with nothing else running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_profile import child_environment, one_step, print_child_line  # noqa: E402  (the same training step)

POLICIES = ("decay", "kept")
STAGES = ("train", "predict")


def use_policy(policy: str) -> None:
    """``decay``: bench's page handling in the hot loops made a no-op. Must run before harness.training or
    harness.model.generate is imported, since they bind these names when imported."""
    if policy == "kept":
        return
    import harness.core.allocator as allocator

    allocator.freed_pages_kept = contextlib.nullcontext
    allocator.return_freed_pages = lambda: False
    allocator.returning_pages_between = lambda items: items


def usage() -> resource.struct_rusage:
    return resource.getrusage(resource.RUSAGE_SELF)


def predict(items: int) -> dict:
    from scoring_throughput import load_model, suite_items

    from harness.model.generate import generate

    _, _, conversations, _ = suite_items(items)
    model, tokenizer = load_model("smollm2-135m-instruct", "float32")

    def answer(convs):
        return generate(model, tokenizer, convs, batch_size=32, max_new_tokens=12, stop_at_first_line=True)

    answer(conversations[:2])  # warm-up: first-call costs count for neither policy
    before, started = usage(), time.perf_counter()
    answer(conversations)
    after = usage()
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "minor_faults": after.ru_minflt - before.ru_minflt,
        "system_seconds": round(after.ru_stime - before.ru_stime, 1),
        "user_seconds": round(after.ru_utime - before.ru_utime, 1),
    }


def in_this_process(stage: str, policy: str, args) -> dict:
    use_policy(policy)
    from harness.core.allocator import on_jemalloc

    if not on_jemalloc():
        raise SystemExit("not on jemalloc: install libjemalloc2 (setup.sh does)")
    figures = one_step("checkpointed", args.steps) if stage == "train" else predict(args.items)
    if stage == "train":  # one_step reports the whole child's faults and times; keep what compares
        figures = {key: figures[key] for key in ("seconds_per_step", "minor_faults", "system_seconds", "user_seconds")}
    return {"stage": stage, "policy": policy, **figures, "peak_rss_mb": usage().ru_maxrss // 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6, help="training steps per run (the first is not timed)")
    parser.add_argument("--items", type=int, default=96, help="test items answered per run")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, policy = args.child.split(":")
        print(json.dumps(in_this_process(stage, policy, args)))
        return
    stages = args.stages.split(",")
    if unknown := set(stages) - set(STAGES):
        raise SystemExit(f"unknown stage(s) {', '.join(sorted(unknown))}; choose from {', '.join(STAGES)}")
    env = child_environment("jemalloc")
    for _ in range(args.rounds):
        for stage in stages:
            for policy in POLICIES:
                argv = ["--child", f"{stage}:{policy}", "--steps", str(args.steps), "--items", str(args.items)]
                print_child_line(__file__, argv, env, f"{stage}:{policy}")


if __name__ == "__main__":
    main()
