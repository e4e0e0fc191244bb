"""Peak memory and training throughput of LoRA, QLoRA and full fine-tuning at SmolLM2-1.7B's shapes.

    python benchmarks/gpu_variants.py --device cuda [--steps 6] [--batch-size 8] [--seq-len 512] [--json OUT]
    python benchmarks/gpu_variants.py --device cpu --shape tiny      # what the tests run

The model is randomly initialised from SmolLM2-1.7B's configuration (hidden
2048, 24 layers, 32 heads, 32 key/value heads, MLP 8192, vocabulary 49152, tied
embeddings): throughput and memory depend on the shapes, not on the weights'
values, so no download is needed and the script runs on a machine without a
network. Inputs are random token ids. Each kind trains for a warm-up step and
then ``--steps`` timed steps of a plain loop (forward, backward, AdamW step), as
bench's variants set them up:

- lora: bf16 base weights, LoRA r16 on q/k/v/o in fp32, bf16 autocast;
- qlora: the base loaded 4-bit (NF4, double quantisation, bf16 compute) through
  transformers' BitsAndBytesConfig, the same LoRA; needs bitsandbytes, else skipped;
- full: every weight trained, fp32 master weights, bf16 autocast.

Printed per kind: model weights in memory, peak memory over the timed steps
(CUDA: torch's peak allocated; CPU: the process's peak RSS so far, which only
grows, so on CPU run one kind per process for a clean figure), seconds per step,
tokens per second, and, for the adapters, how many LoRA B matrices got a
non-zero gradient on the first step (all of them, or the QLoRA pitfall of
docs/design.md §7 is back). Needs torch, transformers and peft only; no harness import,
so it runs on a GPU box without bench's other dependencies.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

SHAPES = {
    # From HuggingFaceTB/SmolLM2-1.7B's config.json.
    "smollm2-1.7b": dict(
        hidden_size=2048,
        num_hidden_layers=24,
        num_attention_heads=32,
        num_key_value_heads=32,
        intermediate_size=8192,
        vocab_size=49152,
        max_position_embeddings=8192,
        rope_theta=130000.0,
    ),
    # From HuggingFaceTB/SmolLM2-135M-Instruct's config.json (the model the shipped suites run).
    "smollm2-135m": dict(
        hidden_size=576,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        intermediate_size=1536,
        vocab_size=49152,
        max_position_embeddings=8192,
        rope_theta=100000.0,
    ),
    # The test suite's tiny model (tests/tiny_model.py): seconds on a CPU.
    "tiny": dict(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
        vocab_size=49152,
        max_position_embeddings=2048,
    ),
}
KINDS = ("lora", "qlora", "full")
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def build_config(shape: str):
    from transformers import LlamaConfig

    return LlamaConfig(
        **SHAPES[shape],
        tie_word_embeddings=True,
        rms_norm_eps=1e-5,
        initializer_range=0.02,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )


def random_model(shape: str, dtype: torch.dtype, seed: int = 0):
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(build_config(shape)).to(dtype)


def lora_config():
    from peft import LoraConfig

    return LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LORA_TARGETS, task_type="CAUSAL_LM")


def model_for(kind: str, shape: str, device: str, workdir: Path):
    """The model to train, with ``(model, weights_bytes)``; raises SkipKind when the platform cannot."""
    from peft import get_peft_model

    if kind == "full":
        model = random_model(shape, torch.float32).to(device)  # fp32 master weights
        return model, model.get_memory_footprint()
    if kind == "lora":
        base = random_model(shape, torch.bfloat16).to(device)
        footprint = base.get_memory_footprint()
        return get_peft_model(base, lora_config()), footprint
    return qlora_model(shape, device, workdir)


class SkipKind(Exception):
    pass


def qlora_model(shape: str, device: str, workdir: Path):
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise SkipKind("bitsandbytes is not installed (pip install bitsandbytes)") from None
    from peft import get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    # Quantisation happens when transformers loads weights, as in the QLoRA variant:
    # save the random model once, then load it 4-bit.
    saved = workdir / f"random-{shape}"
    if not (saved / "config.json").exists():
        random_model(shape, torch.bfloat16).save_pretrained(saved, safe_serialization=True)
    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    placement = {"device_map": {"": torch.device(device).index or 0}} if device.startswith("cuda") else {}
    model = AutoModelForCausalLM.from_pretrained(saved, quantization_config=quantization, **placement)
    footprint = model.get_memory_footprint()
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return get_peft_model(model, lora_config()), footprint


def lora_b_with_gradient(model) -> tuple[int, int]:
    tensors = [p for name, p in model.named_parameters() if p.requires_grad and "lora_B" in name]
    alive = sum(1 for p in tensors if p.grad is not None and bool(p.grad.abs().sum() > 0))
    return alive, len(tensors)


def peak_memory_bytes(device: str) -> int:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated(device)
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def train_steps(
    kind: str, shape: str, device: str, *, steps: int, batch_size: int, seq_len: int, workdir: Path
) -> dict:
    model, weights_bytes = model_for(kind, shape, device, workdir)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    vocab = SHAPES[shape]["vocab_size"]
    # QLoRA computes in bf16 inside its 4-bit layers; lora and full use bf16 autocast.
    autocast = torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=kind != "qlora")
    gradients = None
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
    for step in range(steps + 1):  # step 0 warms up kernels and the allocator; not timed
        if step == 1:
            if device.startswith("cuda"):
                torch.cuda.synchronize(device)
            started = time.perf_counter()
        ids = torch.randint(0, vocab, (batch_size, seq_len), generator=generator).to(device)
        with autocast:
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        if step == 0 and kind != "full":
            gradients = lora_b_with_gradient(model)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    result = {
        "kind": kind,
        "shape": shape,
        "device": device,
        "steps": steps,
        "batch_size": batch_size,
        "seq_len": seq_len,
        "trainable_params": sum(p.numel() for p in trainable),
        "weights_mb": weights_bytes / 2**20,
        "peak_memory_mb": peak_memory_bytes(device) / 2**20,
        "seconds_per_step": seconds / steps,
        "tokens_per_second": batch_size * seq_len * steps / seconds,
        "final_loss": loss.item(),
        "lora_b_with_gradient": None if gradients is None else f"{gradients[0]}/{gradients[1]}",
    }
    del model, optimizer, trainable, loss
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return result


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (default: cuda)")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="smollm2-1.7b")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, from {', '.join(KINDS)}")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per kind, after one warm-up step")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("no CUDA device here; use --device cpu (with --shape tiny for a quick run)")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown kind(s) {unknown}; choose from {', '.join(KINDS)}")

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # one line per kind is the output
    device_name = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") else "cpu"
    print(
        f"{args.shape} on {device_name}: batch {args.batch_size} x {args.seq_len} tokens, {args.steps} timed steps",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            try:
                result = train_steps(
                    kind,
                    args.shape,
                    args.device,
                    steps=args.steps,
                    batch_size=args.batch_size,
                    seq_len=args.seq_len,
                    workdir=Path(tmp),
                )
            except SkipKind as why:
                result = {"kind": kind, "shape": args.shape, "device": args.device, "skipped": str(why)}
            results.append(result)
            print(format_row(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


def format_row(r: dict) -> str:
    if "skipped" in r:
        return f"{r['kind']:6} skipped: {r['skipped']}"
    gradients = f"  lora_B with gradient {r['lora_b_with_gradient']}" if r["lora_b_with_gradient"] else ""
    return (
        f"{r['kind']:6} weights {r['weights_mb']:9.1f} MB  peak {r['peak_memory_mb']:9.1f} MB  "
        f"{r['seconds_per_step']:7.3f} s/step  {r['tokens_per_second']:10.0f} tokens/s  "
        f"trainable {r['trainable_params']:,}{gradients}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
