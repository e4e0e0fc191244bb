"""Training throughput: bench's LoRA set-up against trl's SFTTrainer defaults, side by side.

Same model (SmolLM2-135M-Instruct), same LoRA (r16 on q,k,v,o), same training
items of legal_classifier, same batch size and steps. What differs is what bench
chooses (harness/training.py): prompt/completion data so the loss falls on the
answer only, gradient checkpointing off, and optionally bf16 autocast. The peer
is trl's SFTTrainer as a user would configure it: conversational "messages" data,
its default gradient checkpointing, loss on the whole sequence.

    python benchmarks/train_throughput.py [--steps 12] [--batch-size 8]

Prints tokens/s per set-up (non-padding tokens through the model per second of
training) and the ratio to the peer, and utilisation against the machine's bf16
and fp32 matmul peaks.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def load_rows(limit: int) -> tuple[list[dict], str]:
    import yaml

    suite = yaml.safe_load((REPO / "suites" / "legal_classifier.yaml").read_text())
    system = suite["task"]["system_prompt"]
    rows = [json.loads(line) for line in (REPO / "suites/legal_classifier/data/train.jsonl").read_text().splitlines()[:limit]]
    return rows, system


def fresh_lora_model(source: str):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                        task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def run_trl_defaults(source, tokenizer, rows, system, steps, batch_size) -> dict:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_list([{"messages": [{"role": "system", "content": system}] + r["messages"]} for r in rows])
    with tempfile.TemporaryDirectory() as out:
        config = SFTConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=batch_size, learning_rate=3e-4,
                           logging_steps=1, report_to="none", save_strategy="no", disable_tqdm=True,
                           include_num_input_tokens_seen="non_padding", use_cpu=True)
        trainer = SFTTrainer(model=fresh_lora_model(source), args=config, train_dataset=data, processing_class=tokenizer)
        return _timed(trainer)


def run_bench(source, tokenizer, rows, system, steps, batch_size, bf16: bool) -> dict:
    from harness.prompts import PromptTemplate
    from harness.spec.schema import TrainingSpec
    from harness.training import prompt_completion_rows, train_sft

    template = PromptTemplate(system)
    data = prompt_completion_rows([template.render(r["messages"][:1]) for r in rows], [r["messages"][1]["content"] for r in rows])
    spec = TrainingSpec(max_steps=steps, batch_size=batch_size, learning_rate=3e-4, max_length=384, bf16=bf16)
    with tempfile.TemporaryDirectory() as out:
        record = train_sft(fresh_lora_model(source), tokenizer, data, spec=spec, seed=0, output_dir=Path(out))
    return {"seconds": record.seconds, "tokens": record.trained_tokens, "tokens_per_second": record.trained_tokens / record.seconds}


def _timed(trainer) -> dict:
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    tokens = int(trainer.state.num_input_tokens_seen)
    return {"seconds": seconds, "tokens": tokens, "tokens_per_second": tokens / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    from transformers import AutoTokenizer

    from harness.models.provision import resolve_model

    source = resolve_model("smollm2-135m-instruct")
    tokenizer = AutoTokenizer.from_pretrained(source)
    rows, system = load_rows(args.steps * args.batch_size)
    results = {
        "trl defaults": run_trl_defaults(source, tokenizer, rows, system, args.steps, args.batch_size),
        "bench fp32": run_bench(source, tokenizer, rows, system, args.steps, args.batch_size, bf16=False),
        "bench bf16": run_bench(source, tokenizer, rows, system, args.steps, args.batch_size, bf16=True),
    }
    n_params = 134_515_008  # SmolLM2-135M; training FLOPs ~ 6 * params * tokens (forward + backward)
    peer = results["trl defaults"]["tokens_per_second"]
    try:
        from harness.flops import machine_peak

        peak = machine_peak()
    except Exception:  # the peak is context, not the measurement
        peak = None
    print(f"{'set-up':<14} {'tokens':>8} {'seconds':>8} {'tokens/s':>9} {'vs trl':>7} {'GFLOP/s':>8}")
    for name, r in results.items():
        gflops = 6 * n_params * r["tokens_per_second"] / 1e9
        print(f"{name:<14} {r['tokens']:>8} {r['seconds']:>8.1f} {r['tokens_per_second']:>9.0f} "
              f"{r['tokens_per_second'] / peer:>6.2f}x {gflops:>8.0f}")
    if peak:
        print(f"machine matmul peak: {json.dumps(peak)}")


if __name__ == "__main__":
    main()
