"""Where a LoRA training step's memory goes, and what gradient checkpointing and the heap setting save.

One training step of legal_classifier's LoRA (r16 on q,k,v,o, batch 8,
max_length 512) on SmolLM2-135M-Instruct in fp32, through bench's own
``train_sft``. The length-grouped sampler puts the longest rows in the first
batch, so this one step is the suite's training peak (8 rows, 464 tokens at the
widest). Each set-up runs in its own process (the heap setting holds for a
process's life) and prints:

- ``model_mb``: RSS with the model loaded and its weights touched once (a
  no-grad forward: safetensors maps the file, so untouched weights are not yet
  resident),
- ``peak_mb``: the highest RSS during the training step, sampled every 5 ms,
- ``step_mb``: the difference, what the step itself holds at its peak.

    python benchmarks/memory_profile.py [--setups plain,checkpointed,plain+heap,checkpointed+heap,...] [--steps N]
                                        [--mmap-threshold BYTES] [--dtype bfloat16] [--allocator jemalloc]

With ``--steps N`` (N > 1) it also prints ``seconds_per_step`` after the first
step: what checkpointing costs in time, a ratio only on a quiet machine.

``checkpointed`` is training.gradient_checkpointing (bench's default); ``heap``
is harness/core/heap.py (bench sets it at the start of every run). ``qlora``
trains the same LoRA on a 4-bit NF4 copy of the base (double-quantised,
computing in ``--dtype``: fp32 as bench runs it on a CPU without bf16, bf16
where the suites' bf16 runs natively), with the shared base
parked meanwhile as a run parks it (harness/model/parking.py): ``model_mb``
then counts the 4-bit copy and what the process keeps beside it. For the peak
of every stage of a whole run, read ``stage_peak_rss_mb`` in a run's
manifest.json (bench records it on every run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUPS = ("plain", "checkpointed", "plain+heap", "checkpointed+heap", "qlora+checkpointed+heap")


def one_step(setup: str, steps: int = 1, mmap_threshold: int | None = None, dtype: str = "float32") -> dict:
    """Run in a child process: ``steps`` bench training steps under ``setup``."""
    import torch
    import yaml

    if "heap" in setup:
        from harness.core.heap import MMAP_THRESHOLD_BYTES, keep_heap_small

        keep_heap_small(mmap_threshold or MMAP_THRESHOLD_BYTES)
    from peft import LoraConfig, get_peft_model

    from harness.core.allocator import allocator_record
    from harness.model.loading import load_base
    from harness.model.parking import parked
    from harness.run.cost import Measure
    from harness.suite.schema import TrainingSpec
    from harness.training.sft import prompt_completion_rows, train_sft

    torch.manual_seed(0)
    suite = yaml.safe_load((REPO / "suites" / "legal_classifier.yaml").read_text())
    system = suite["task"]["system_prompt"]
    items = [json.loads(line) for line in (REPO / "suites/legal_classifier/data/train.jsonl").read_text().splitlines()]
    rows = prompt_completion_rows(
        [[{"role": "system", "content": system}] + [m for m in i["messages"] if m["role"] == "user"] for i in items],
        [next(m["content"] for m in i["messages"] if m["role"] == "assistant") for i in items],
    )
    base = load_base("smollm2-135m-instruct", dtype=dtype)
    with torch.no_grad():  # touch every weight once, so model_mb holds the whole model
        base.model(input_ids=torch.tensor([[1, 2, 3]]))
    qlora = setup.startswith("qlora")
    # A run parks the shared base while QLoRA works on its 4-bit copy (harness/model/parking.py); so does this.
    with parked(base) if qlora else contextlib.nullcontext():
        adapted = quantized_copy(base.source, getattr(torch, dtype)) if qlora else base.model
        model = get_peft_model(
            adapted,
            LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
        )
        spec = TrainingSpec(
            max_steps=steps,
            batch_size=8,
            max_length=512,
            learning_rate=3e-4,
            gradient_checkpointing="checkpointed" in setup,
            bf16=dtype == "bfloat16",  # a bf16 base trains under bf16 autocast, as the shipped suites do
        )
        with Measure(interval=0.005) as loaded:
            pass
        ends = []  # when each step ended
        with tempfile.TemporaryDirectory() as out, Measure(interval=0.005) as step:
            record = train_sft(
                model,
                base.tokenizer,
                rows,
                spec=spec,
                seed=0,
                output_dir=Path(out),
                on_step=lambda *_: ends.append(time.perf_counter()),
            )
    curve = record.loss_curve
    usage = resource.getrusage(resource.RUSAGE_SELF)  # the whole child: load and steps
    return {
        "setup": setup,
        **({"mmap_threshold": mmap_threshold} if mmap_threshold and "heap" in setup else {}),
        "steps": steps,
        "dtype": dtype,
        "allocator": allocator_record()["name"],
        "model_mb": round(loaded.peak_rss_mb),
        "peak_mb": round(step.peak_rss_mb),
        "step_mb": round(step.peak_rss_mb - loaded.peak_rss_mb),
        "step_seconds": round(step.seconds, 1),
        "loss": curve[0]["loss"] if curve else None,
        "minor_faults": usage.ru_minflt,
        "user_seconds": round(usage.ru_utime, 1),
        "system_seconds": round(usage.ru_stime, 1),
        # After the first step, which holds one-off set-up (and the widest batch).
        **({"seconds_per_step": round((ends[-1] - ends[0]) / (len(ends) - 1), 1)} if len(ends) > 1 else {}),
    }


def quantized_copy(source: str, compute_dtype):
    """The 4-bit copy QLoRA trains on, loaded as harness/variants/qlora.py loads it (computing in the base's dtype:
    fp32 on a CPU without bf16, bf16 where the suite's bf16 runs natively)."""
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from harness.variants.qlora import release_file_views

    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )
    model = AutoModelForCausalLM.from_pretrained(source, quantization_config=quantization, use_safetensors=True)
    return prepare_model_for_kbit_training(release_file_views(model), use_gradient_checkpointing=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument(
        "--mmap-threshold", type=int, help="bytes; the heap setting's threshold (default: harness/core/heap.py's)"
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "bfloat16"),
        default="float32",
        help="the shared base's dtype; bfloat16 also trains under bf16 autocast, as the shipped suites do on a bf16 CPU",
    )
    parser.add_argument(
        "--allocator",
        choices=("glibc", "jemalloc"),
        default="glibc",
        help="jemalloc: each set-up's process preloads it with bench's MALLOC_CONF, as the bench command runs "
        "(harness/core/allocator.py); use set-ups without +heap, the glibc setting",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_step(args.child, args.steps, args.mmap_threshold, args.dtype)))
        return
    env = child_environment(args.allocator)
    for setup in args.setups.split(","):
        if setup not in SETUPS:
            raise SystemExit(f"unknown set-up {setup!r}; choose from {', '.join(SETUPS)}")
        argv = ["--child", setup, "--steps", str(args.steps), "--dtype", args.dtype]
        print_child_line(
            __file__, argv + (["--mmap-threshold", str(args.mmap_threshold)] if args.mmap_threshold else []), env, setup
        )


def print_child_line(script: str, argv: list[str], env: dict[str, str], name: str) -> None:
    """Run ``script argv`` in a fresh process under ``env`` and print the JSON line it prints last."""
    child = subprocess.run(
        [sys.executable, script, *argv], capture_output=True, text=True, cwd=REPO, env=env, check=False
    )
    if child.returncode != 0:
        raise SystemExit(f"{name}: exit {child.returncode}\n{child.stderr[-2000:]}")
    print(child.stdout.strip().splitlines()[-1], flush=True)


def child_environment(allocator: str) -> dict[str, str]:
    """The set-ups' environment: this one, with jemalloc preloaded and bench's settings for ``jemalloc``."""
    env = dict(os.environ)
    if allocator == "jemalloc":
        from harness.core.allocator import jemalloc_environment, jemalloc_library

        library = jemalloc_library()
        if library is None:
            raise SystemExit("--allocator jemalloc: jemalloc is not installed (apt-get install libjemalloc2)")
        env.update(jemalloc_environment(env, library))
    return env


if __name__ == "__main__":
    main()
