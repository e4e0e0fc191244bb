"""Peak RSS of answering legal_classifier's validation items through the base model and through a peft LoRA.

A whole run's peak is set by LoRA's validation passes and test predictions, not by its
training steps (benchmarks/README.md, "Where the 4.2 GB comes from"; since fixed, see below). This isolates it:
each set-up in its own process loads the bf16 base as the suite does, optionally wraps it
in a fresh LoRA (r16 on q,k,v,o; B is zero, so the answers are the base's), and answers
the 100 validation items with bench's Predictor under bf16 autocast, as a validation pass
does. It prints the peak RSS during the answers (sampled every 5 ms) and their seconds.

    python benchmarks/adapter_generation_memory.py [--setups base,lora,lora+trainer-state] [--limit N]

``lora+trainer-state`` adds what the trainer leaves on the model during training:
gradient checkpointing on, ``use_cache`` off in the config, trl's fused-LM-head forward
patch. Run it with the allocator bench uses (the bench command preloads jemalloc; here
set ``LD_PRELOAD`` and ``MALLOC_CONF`` as harness/core/allocator.py does, or leave glibc).

It found the LM head's slow path (harness/model/lm_head.py): through the fresh LoRA, 2,821 MB
and 40.3 s before the fix, 1,147 MB and 32.4 s after; the base 1,123-1,129 MB either way
(benchmarks/README.md, "Found and fixed: the LM head multiplied the whole prompt block").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUPS = ("base", "lora", "lora+trainer-state")


def answer_once(setup: str, limit: int) -> dict:
    """In a child process: the peak RSS of answering ``limit`` validation items under ``setup``."""
    sys.path.insert(0, str(REPO))
    import yaml
    from peft import LoraConfig, get_peft_model

    from harness.core.allocator import allocator_record
    from harness.model.generate import inference_precision
    from harness.model.loading import load_base
    from harness.model.predictor import Predictor
    from harness.run.cost import Measure

    suite = yaml.safe_load((REPO / "suites" / "legal_classifier.yaml").read_text())
    system = suite["task"]["system_prompt"]
    lines = (REPO / "suites/legal_classifier/data/validation.jsonl").read_text().splitlines()[:limit]
    conversations = [
        [{"role": "system", "content": system}] + [m for m in json.loads(line)["messages"] if m["role"] == "user"]
        for line in lines
    ]
    base = load_base("smollm2-135m-instruct", dtype="bfloat16")
    model = base.model
    if setup.startswith("lora"):
        lora = LoraConfig(
            r=16, lora_alpha=32, lora_dropout=0.05, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]
        )
        model = get_peft_model(base.model, lora)
    if setup == "lora+trainer-state":
        from trl.trainer.utils import add_fused_lm_head

        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
        add_fused_lm_head(model.get_base_model())
    model.eval()
    inference = suite["inference"]
    predictor = Predictor(
        model,
        base.tokenizer,
        batch_size=inference["batch_size"],
        max_new_tokens=inference["max_new_tokens"],
        max_batch_tokens=inference.get("max_batch_tokens", 8192),
        stop_at_first_line=True,
    )
    with Measure(interval=0.005) as before:
        pass
    started = time.perf_counter()
    with Measure(interval=0.005) as answering, inference_precision(True):
        answers = predictor.generate(conversations, with_confidence=True)  # as a classification suite answers
    return {
        "setup": setup,
        "allocator": allocator_record()["name"],
        "items": len(answers),
        "before_mb": round(before.peak_rss_mb),
        "peak_mb": round(answering.peak_rss_mb),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--limit", type=int, default=100, help="validation items (legal_classifier has 100)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(answer_once(args.child, args.limit)))
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from scoring_throughput import in_child  # each set-up in a fresh process, its JSON line read back

    for setup in args.setups.split(","):
        if setup not in SETUPS:
            raise SystemExit(f"unknown set-up {setup!r}; choose from {', '.join(SETUPS)}")
        print(json.dumps(in_child(__file__, setup, ["--limit", str(args.limit)])), flush=True)


if __name__ == "__main__":
    main()
