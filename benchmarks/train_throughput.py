"""Training throughput: bench's LoRA set-up against trl's SFTTrainer defaults, side by side.

Same model (SmolLM2-135M-Instruct), same LoRA (r16 on q,k,v,o), same training
items of legal_classifier, same batch size and steps. What differs is what bench
chooses (harness/training/sft.py): prompt/completion data so the loss falls on the
answer only, gradient checkpointing as the suite says (on by default, as trl's;
figures before 2026-12-01 had it off), rows batched by length, the prompt all
rows share run once per batch (harness/training/shared_prefix_loss.py), and the precision
(fp32; bf16 autocast over fp32 weights; bf16 autocast over a bf16 base with fp32
adapter weights, which legal_classifier uses). The peer is trl's SFTTrainer as a
user would configure it: conversational "messages" data, its defaults (bf16
autocast, gradient checkpointing on, loss on the whole sequence).

On a CPU without bf16 instructions, trl's default bf16 autocast is emulated
(0.28 bf16 GFLOP/s against 104 fp32 on a 2-core AVX2 EPYC, harness/model/precision.py),
so a ratio against it would flatter bench. There the fair peer is ``trl fp32``:
trl's defaults with ``bf16=False``, what a user on such a machine has to set, as
bench falls back to fp32 itself; and bench's bf16 set-ups would be emulated too.
So the default set-ups depend on the machine: on a bf16 machine all five, elsewhere
``trl fp32`` and ``bench fp32``. ``--setups`` chooses others.

    python benchmarks/train_throughput.py [--steps 12] [--batch-size 8] [--eval-items 100] [--setups a,b,...]

Prints tokens/s per set-up (non-padding tokens of the training rows per second
of training) and the ratio to the peer. "GFLOP/s" is 6 x parameters x tokens
per second: the work a plain forward and backward of those rows would take, so
it can exceed the matmul peak when bench skips repeated work. With
--eval-items N each trained adapter then answers the first N legal_classifier
test items (bench's greedy inference, bf16) and its accuracy is printed.

Each set-up trains in a process of its own, started as its users start it: the
bench set-ups as the ``bench`` command starts (harness/core/startup.py: jemalloc
where installed, OpenMP's short spin, oneDNN's bounded caches), trl's on the
interpreter's defaults. Figures before 2026-12-03 ran every set-up in one
process on glibc, so they left out bench's allocator work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring_throughput import in_child  # noqa: E402  (each set-up in a fresh process, its JSON line read back)

REPO = Path(__file__).resolve().parents[1]
SETUPS = ("trl defaults", "trl fp32", "bench fp32", "bench bf16", "bench bf16 base")
FP32_SETUPS = ("trl fp32", "bench fp32")  # where bf16 would be emulated


def load_rows(limit: int) -> tuple[list[dict], str]:
    import yaml

    suite = yaml.safe_load((REPO / "suites" / "legal_classifier.yaml").read_text())
    system = suite["task"]["system_prompt"]
    rows = [
        json.loads(line)
        for line in (REPO / "suites/legal_classifier/data/train.jsonl").read_text().splitlines()[:limit]
    ]
    return rows, system


def fresh_lora_model(source: str, dtype: str = "float32"):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype))
    config = LoraConfig(
        r=16,
        lora_alpha=32,
        lora_dropout=0.05,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def run_trl_defaults(source, tokenizer, rows, system, steps, batch_size, bf16: bool | None = None) -> dict:
    """trl's SFTTrainer with its defaults; ``bf16=False`` turns off only its bf16 autocast (None: trl's default)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_list([{"messages": [{"role": "system", "content": system}] + r["messages"]} for r in rows])
    with tempfile.TemporaryDirectory() as out:
        config = SFTConfig(
            output_dir=out,
            max_steps=steps,
            per_device_train_batch_size=batch_size,
            learning_rate=3e-4,
            logging_steps=1,
            report_to="none",
            save_strategy="no",
            disable_tqdm=True,
            include_num_input_tokens_seen="non_padding",
            use_cpu=True,
            **({} if bf16 is None else {"bf16": bf16}),
        )
        model = fresh_lora_model(source)
        trainer = SFTTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer)
        return {**_timed(trainer), "model": model}


def run_bench(source, tokenizer, rows, system, steps, batch_size, bf16: bool, base_dtype: str = "float32") -> dict:
    from harness.data.prompts import PromptTemplate
    from harness.suite.schema import TrainingSpec
    from harness.training.sft import prompt_completion_rows, train_sft

    template = PromptTemplate(system)
    data = prompt_completion_rows(
        [template.render(r["messages"][:1]) for r in rows], [r["messages"][1]["content"] for r in rows]
    )
    spec = TrainingSpec(max_steps=steps, batch_size=batch_size, learning_rate=3e-4, max_length=384, bf16=bf16)
    model = fresh_lora_model(source, base_dtype)
    with tempfile.TemporaryDirectory() as out:
        record = train_sft(model, tokenizer, data, spec=spec, seed=0, output_dir=Path(out))
    return {
        "seconds": record.seconds,
        "tokens": record.trained_tokens,
        "tokens_per_second": record.trained_tokens / record.seconds,
        "model": model,
    }


def held_out_accuracy(model, tokenizer, system: str, n_items: int, bf16: bool) -> float:
    from harness.data.prompts import PromptTemplate
    from harness.model.generate import generate, inference_precision

    template = PromptTemplate(system)
    rows = [
        json.loads(line)
        for line in (REPO / "suites/legal_classifier/data/test.jsonl").read_text().splitlines()[:n_items]
    ]
    model.eval()
    with inference_precision(bf16):
        outputs = generate(
            model, tokenizer, [template.render(r["messages"][:1]) for r in rows], batch_size=32, max_new_tokens=12
        )
    return sum(o.text.strip() == r["messages"][1]["content"].strip() for o, r in zip(outputs, rows)) / len(rows)


def _timed(trainer) -> dict:
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    tokens = int(trainer.state.num_input_tokens_seen)
    return {"seconds": seconds, "tokens": tokens, "tokens_per_second": tokens / seconds}


def train_in_this_process(name: str, args) -> dict:
    """One set-up's figures (run in a child: ``in_child``); the bench set-ups start as the bench command does."""
    if name.startswith("bench"):
        from harness.core.startup import start_like_bench

        start_like_bench(sys.argv, heap=True)  # re-executes on jemalloc where installed, as `bench` does
    import torch
    from transformers import AutoTokenizer

    from harness.core.allocator import on_jemalloc
    from harness.model.precision import slow_bf16_here
    from harness.model.provision import resolve_model

    source = resolve_model("smollm2-135m-instruct")
    tokenizer = AutoTokenizer.from_pretrained(source)
    rows, system = load_rows(args.steps * args.batch_size)
    steps, batch_size = args.steps, args.batch_size
    runs = {
        "trl defaults": lambda: run_trl_defaults(source, tokenizer, rows, system, steps, batch_size),
        "trl fp32": lambda: run_trl_defaults(source, tokenizer, rows, system, steps, batch_size, bf16=False),
        "bench fp32": lambda: run_bench(source, tokenizer, rows, system, steps, batch_size, bf16=False),
        "bench bf16": lambda: run_bench(source, tokenizer, rows, system, steps, batch_size, bf16=True),
        "bench bf16 base": lambda: run_bench(
            source, tokenizer, rows, system, steps, batch_size, bf16=True, base_dtype="bfloat16"
        ),
    }
    result = runs[name]()
    model = result.pop("model")
    if args.eval_items:  # inference in bf16 only where it is native, as bench's precision fallback does
        result["accuracy"] = held_out_accuracy(model, tokenizer, system, args.eval_items, bf16=not slow_bf16_here())
    return {**result, "allocator": "jemalloc" if on_jemalloc() else "libc", "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--eval-items", type=int, default=0, help="then score each adapter on this many test items")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--setups", help=f"comma-separated, from: {', '.join(SETUPS)} (default: what runs natively here)"
    )
    parser.add_argument("--child", choices=SETUPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(train_in_this_process(args.child, args)))
        return
    from harness.model.precision import slow_bf16_here

    slow_bf16 = slow_bf16_here()
    chosen = args.setups.split(",") if args.setups else (FP32_SETUPS if slow_bf16 else SETUPS)
    unknown = set(chosen) - set(SETUPS)
    if unknown:
        raise SystemExit(f"unknown set-ups {sorted(unknown)}; choose from {', '.join(SETUPS)}")
    # The peer: trl's defaults where they run natively, else trl with its bf16 autocast off (see above).
    # Chosen before anything trains, so a choice without a trl set-up fails at once.
    peer_name = next((name for name in ("trl defaults", "trl fp32") if name in chosen), None)
    if peer_name is None:
        raise SystemExit("choose a trl set-up to compare with (trl defaults or trl fp32)")
    argv = ["--steps", str(args.steps), "--batch-size", str(args.batch_size), "--eval-items", str(args.eval_items)]
    results = {name: in_child(__file__, name, argv) for name in SETUPS if name in chosen}
    n_params = 134_515_008  # SmolLM2-135M; training FLOPs ~ 6 * params * tokens (forward + backward)
    print(f"peer: {peer_name}")
    peer = results[peer_name]["tokens_per_second"]
    try:
        from harness.run.flops import machine_peak

        peak = machine_peak()
    except Exception:  # the peak is context, not the measurement
        peak = None
    print(
        f"{'set-up':<16} {'tokens':>8} {'seconds':>8} {'tokens/s':>9} {'vs peer':>7} {'GFLOP/s':>8} "
        f"{'accuracy':>9} {'allocator':>9}"
    )
    for name, r in results.items():
        r["gflops_equivalent"] = 6 * n_params * r["tokens_per_second"] / 1e9
        r["ratio_to_peer"] = r["tokens_per_second"] / peer
        accuracy = f"{r['accuracy']:.3f}" if "accuracy" in r else "-"
        print(
            f"{name:<16} {r['tokens']:>8} {r['seconds']:>8.1f} {r['tokens_per_second']:>9.0f} "
            f"{r['ratio_to_peer']:>6.2f}x {r['gflops_equivalent']:>8.0f} {accuracy:>9} {r['allocator']:>9}"
        )
    if peak:
        print(f"machine matmul peak: {json.dumps(peak)}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "steps": args.steps,
                    "batch_size": args.batch_size,
                    "eval_items": args.eval_items,
                    "peer": peer_name,
                    "slow_bf16": slow_bf16,
                    "peak": peak,
                    "results": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
