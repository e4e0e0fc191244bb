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

The process takes bench's heap setting first (harness/core/heap.py), as ``bench
run`` does, so both generators run under it; ``--no-heap`` leaves glibc's
default, to measure what the setting costs in time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring_throughput import suite_items, write_figures  # noqa: E402  (the same items and prompts)


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


def timed(call):
    started = time.perf_counter()
    out = call()
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct", help="a bench alias or a saved HF model folder")
    parser.add_argument("--limit", type=int, default=100, help="first N test items of legal_classifier")
    parser.add_argument("--batch-size", type=int, default=32, help="prompts per batch, for both")
    parser.add_argument("--max-new-tokens", type=int, help="default: the suite's inference.max_new_tokens")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--no-heap", action="store_true", help="leave glibc's default heap (bench run does not)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    from harness.core.heap import keep_heap_small

    heap = not args.no_heap and keep_heap_small()  # before the first large allocation, as bench run does
    import torch
    from lm_eval.models.huggingface import HFLM

    from harness.core.errors import BenchError
    from harness.model.generate import generate
    from harness.model.loading import load_base

    spec, items, conversations, _ = suite_items(args.limit)
    max_new = args.max_new_tokens or spec.inference.max_new_tokens
    try:
        base = load_base(args.model, dtype=args.dtype)
    except BenchError as exc:
        sys.exit(f"{exc.message}" + (f"\nhint: {exc.hint}" if exc.hint else ""))
    model, tok = base.model, base.tokenizer
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=args.batch_size)
    requests = lm_eval_requests(tok, conversations, max_new)
    print(
        f"model {base.source}, {args.dtype}, heap setting {'on' if heap else 'off'}, "
        f"{torch.get_num_threads()} threads, {len(items)} items, "
        f"batch {args.batch_size}, at most {max_new} new tokens"
    )

    def bench(stop: bool, convs=conversations):
        return generate(model, tok, convs, batch_size=args.batch_size, max_new_tokens=max_new, stop_at_first_line=stop)

    bench(True, conversations[:2])  # warm-up: first-call costs count for neither
    lm.generate_until(requests[:2], disable_tqdm=True)

    stopped, stopped_seconds = timed(lambda: bench(True))
    unstopped, unstopped_seconds = timed(lambda: bench(False))
    peer, peer_seconds = timed(lambda: lm.generate_until(requests, disable_tqdm=True))

    same = sum(g.text.strip() == text.strip() for g, text in zip(stopped, peer)) / len(items)
    labels = spec.task.labels
    parse = spec.task.answer_format.replace("{label}", "")

    def accuracy(texts) -> float:
        return sum(t.strip().removeprefix(parse).strip() == item.label for t, item in zip(texts, items)) / len(items)

    figures = {
        "model": base.source,
        "dtype": args.dtype,
        "heap_setting": heap,
        "threads": torch.get_num_threads(),
        "items": len(items),
        "labels": len(labels),
        "batch_size": args.batch_size,
        "max_new_tokens": max_new,
        "bench_seconds": stopped_seconds,
        "bench_without_stop_seconds": unstopped_seconds,
        "lm_eval_seconds": peer_seconds,
        "bench_items_per_second": len(items) / stopped_seconds,
        "lm_eval_items_per_second": len(items) / peer_seconds,
        "speedup": peer_seconds / stopped_seconds,
        "stop_speedup": unstopped_seconds / stopped_seconds,
        "same_text_share": same,
        "bench_new_tokens_mean": sum(g.output_tokens for g in stopped) / len(items),
        "bench_without_stop_new_tokens_mean": sum(g.output_tokens for g in unstopped) / len(items),
        "bench_exact_answer_accuracy": accuracy([g.text for g in stopped]),
        "lm_eval_exact_answer_accuracy": accuracy(peer),
        "load_average_1min": os.getloadavg()[0],
    }
    print(f"{'generator':40s} {'seconds':>8s} {'items/s':>8s} {'new tokens':>10s}")
    rows = [
        ("bench generate, first-line stop", stopped_seconds, figures["bench_new_tokens_mean"]),
        ("bench generate, no stop", unstopped_seconds, figures["bench_without_stop_new_tokens_mean"]),
        ("lm-eval HFLM.generate_until (\\n)", peer_seconds, None),
    ]
    for name, seconds, tokens in rows:
        print(f"{name:40s} {seconds:8.1f} {len(items) / seconds:8.2f} {'' if tokens is None else f'{tokens:10.1f}'}")
    print(
        f"speedup {figures['speedup']:.2f}x over lm-eval ({figures['stop_speedup']:.2f}x from the stop alone); "
        f"same answer text on {same:.1%} of items; load {figures['load_average_1min']:.1f}"
    )
    if args.json:
        write_figures(args.json, figures)


if __name__ == "__main__":
    main()
