"""Generation throughput: bench's generate mode against lm-eval's HF backend, on the same items.

    python benchmarks/generation_throughput.py [--model smollm2-135m-instruct] [--limit 100] [--batch-size 32]
                                               [--max-new-tokens 12] [--dtype float32] [--json out.json]

Both answer legal_classifier's first N test items zero-shot, greedy, with the
prompt bench builds (the suite's system prompt, then the item), at most
``--max-new-tokens`` new tokens (default: the suite's ``inference.max_new_tokens``).
A classification answer is one line, so both stop there:

- bench: ``harness.model.generate.generate`` with ``stop_at_first_line=True``
  (what a classification suite runs), the shared system prompt computed once;
  and once more without the stop, to show what the stop alone is worth;
- lm-eval: ``HFLM.generate_until`` with ``until=["\\n"]``, one request per item,
  the chat-templated prompt as the context string.

Printed: seconds and items/s of each, the ratio, and the share of items whose
answers are the same text (bench's first line against lm-eval's text up to its
stop, both stripped). Timings are ratios only on a quiet machine.

Each generator runs in its own process: bench under the heap setting ``bench
run`` takes (harness/core/heap.py; ``--no-heap`` leaves glibc's default, to
measure what the setting costs), lm-eval under glibc's default.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring_throughput import in_child, load_model, suite_items, write_figures  # noqa: E402  (same items, prompts)


def lm_eval_requests(tokenizer, conversations: list[list[dict]], max_new_tokens: int):
    from lm_eval.api.instance import Instance

    return [
        Instance(
            request_type="generate_until",
            doc={},
            arguments=(
                tokenizer.apply_chat_template(conv, add_generation_prompt=True, tokenize=False),
                {"until": ["\n"], "max_gen_toks": max_new_tokens, "do_sample": False},
            ),
            idx=0,
            metadata=("legal_classifier", doc_id, 1),
        )
        for doc_id, conv in enumerate(conversations)
    ]


def generate_in_this_process(name: str, args) -> dict:
    """One generator's answers and seconds (run in a child process: scoring_throughput.in_child)."""
    if name.startswith("bench") and not args.no_heap:
        from harness.core.heap import keep_heap_small

        keep_heap_small()  # as bench run does, before the first large allocation
    import torch

    from harness.model.generate import generate

    spec, _, conversations, _ = suite_items(args.limit)
    max_new = args.max_new_tokens or spec.inference.max_new_tokens
    model, tok = load_model(args.model, args.dtype)
    out = {"threads": torch.get_num_threads(), "max_new_tokens": max_new}
    if name.startswith("bench"):
        stop = name == "bench-stop"

        def run(convs):
            return generate(
                model, tok, convs, batch_size=args.batch_size, max_new_tokens=max_new, stop_at_first_line=stop
            )

        run(conversations[:2])  # warm-up: first-call costs count for neither
        started = time.perf_counter()
        answers = run(conversations)
        out["seconds"] = time.perf_counter() - started
        out["texts"] = [g.text for g in answers]
        out["new_tokens_mean"] = sum(g.output_tokens for g in answers) / len(answers)
        return out
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=args.batch_size)
    requests = lm_eval_requests(tok, conversations, max_new)
    lm.generate_until(requests[:2], disable_tqdm=True)  # warm-up
    started = time.perf_counter()
    out["texts"] = lm.generate_until(requests, disable_tqdm=True)
    out["seconds"] = time.perf_counter() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct", help="a bench alias or a saved HF model folder")
    parser.add_argument("--limit", type=int, default=100, help="first N test items of legal_classifier")
    parser.add_argument("--batch-size", type=int, default=32, help="prompts per batch, for both")
    parser.add_argument("--max-new-tokens", type=int, help="default: the suite's inference.max_new_tokens")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--no-heap", action="store_true", help="bench without its heap setting (bench run has it)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", choices=["bench-stop", "bench-nostop", "lm-eval"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(generate_in_this_process(args.child, args)))
        return

    argv = [a for a in sys.argv[1:] if a != "--json" and a != str(args.json)]
    stopped = in_child(__file__, "bench-stop", argv)
    unstopped = in_child(__file__, "bench-nostop", argv)
    peer = in_child(__file__, "lm-eval", argv)
    spec, items, _, _ = suite_items(args.limit)
    n = len(items)
    same = sum(a.strip() == b.strip() for a, b in zip(stopped["texts"], peer["texts"])) / n
    parse = spec.task.answer_format.replace("{label}", "")

    def accuracy(texts) -> float:
        return sum(t.strip().removeprefix(parse).strip() == item.label for t, item in zip(texts, items)) / n

    figures = {
        "model": args.model,
        "dtype": args.dtype,
        "heap_setting": not args.no_heap,
        "threads": stopped["threads"],
        "items": n,
        "batch_size": args.batch_size,
        "max_new_tokens": stopped["max_new_tokens"],
        "bench_seconds": stopped["seconds"],
        "bench_without_stop_seconds": unstopped["seconds"],
        "lm_eval_seconds": peer["seconds"],
        "bench_items_per_second": n / stopped["seconds"],
        "lm_eval_items_per_second": n / peer["seconds"],
        "speedup": peer["seconds"] / stopped["seconds"],
        "stop_speedup": unstopped["seconds"] / stopped["seconds"],
        "same_text_share": same,
        "bench_new_tokens_mean": stopped["new_tokens_mean"],
        "bench_without_stop_new_tokens_mean": unstopped["new_tokens_mean"],
        "bench_exact_answer_accuracy": accuracy(stopped["texts"]),
        "lm_eval_exact_answer_accuracy": accuracy(peer["texts"]),
        "load_average_1min": os.getloadavg()[0],
    }
    print(
        f"{n} items, {args.dtype}, bench heap setting {'off' if args.no_heap else 'on'}, {stopped['threads']} "
        f"threads, batch {args.batch_size}, at most {stopped['max_new_tokens']} new tokens"
    )
    print(f"{'generator':40s} {'seconds':>8s} {'items/s':>8s} {'new tokens':>10s}")
    rows = [
        ("bench generate, first-line stop", stopped["seconds"], stopped["new_tokens_mean"]),
        ("bench generate, no stop", unstopped["seconds"], unstopped["new_tokens_mean"]),
        ("lm-eval HFLM.generate_until (\\n)", peer["seconds"], None),
    ]
    for name, seconds, tokens in rows:
        print(f"{name:40s} {seconds:8.1f} {n / seconds:8.2f} {'' if tokens is None else f'{tokens:10.1f}'}")
    print(
        f"speedup {figures['speedup']:.2f}x over lm-eval ({figures['stop_speedup']:.2f}x from the stop alone); "
        f"same answer text on {same:.1%} of items; load {figures['load_average_1min']:.1f}"
    )
    if args.json:
        write_figures(args.json, figures)


if __name__ == "__main__":
    main()
