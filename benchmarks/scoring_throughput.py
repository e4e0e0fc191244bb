"""Classification scoring throughput: bench's rank mode against lm-eval's HF backend, on the same items.

    python benchmarks/scoring_throughput.py [--model smollm2-135m-instruct] [--limit 300] [--batch-size 32]
                                            [--lm-eval-batch-size 32] [--dtype float32] [--json out.json]

Both score the legal_classifier suite's first N test items as multiple choice,
with the zero-shot prompt bench builds (the suite's system prompt, then the
item). bench: ``harness.model.rank.rank_choices``, each prompt computed once and
every candidate answer scored on its KV cache. lm-eval: ``HFLM.loglikelihood``
over one (context, continuation) request per item and label, where the context
is the chat-templated prompt string and the continuation is the answer with the
end-of-turn token, the very tokens bench scores (harness/ranking.py says why
end-of-turn is in). The issue's target (#22): at least 10x the items/s, with the
same choice on every item. Each scorer runs in its own process with its own
defaults: bench as the ``bench`` command starts (on jemalloc where installed,
else glibc with the heap setting; oneDNN's and ideep's caches bounded; OpenMP's
short spin), lm-eval on glibc's defaults, as its users run it.

lm-eval moves the context's trailing newline into the continuation, so its sums
carry one more token, the same for every label of an item: the choices do not
move, and the log-likelihoods are compared relative to each item's first label.

Every item where the two pick differently, and the items with the largest
log-likelihood gaps, are traced against a third scorer: one unpadded forward
pass per candidate (prompt + candidate tokens, no cache, no batch), the
plainest reading of the model. The trace says which side departs from it and
by how much, and how far apart the two best labels are (a near-tie is where
rounding can flip a pick). Both scorers run at ``--dtype`` (default float32,
the reference precision; the shipped suites ask for bf16 where the CPU has it).
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
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SUITE = REPO / "suites" / "legal_classifier.yaml"


def suite_items(limit: int):
    """The suite's first ``limit`` test items, zero-shot conversations for them, and the candidate answers."""
    from harness.data.prompts import PromptTemplate
    from harness.data.splits import load_suite_data
    from harness.suite import load_suite
    from harness.tasks import task_from_spec
    from harness.variants.base import variant_configs

    suite = load_suite(SUITE, variant_configs())
    spec = suite.spec
    items = load_suite_data(suite, task_from_spec(spec.task))["test"].items[:limit]
    template = PromptTemplate(spec.task.system_prompt)  # what the zero_shot variant sends (no retrieval)
    conversations = [template.render(item.prompt_messages()) for item in items]
    choices = [spec.task.answer_format.replace("{label}", label) for label in spec.task.labels]
    return spec, items, conversations, choices


def lm_eval_requests(tokenizer, conversations: list[list[dict]], continuations: list[str]):
    from lm_eval.api.instance import Instance

    requests = []
    for doc_id, conv in enumerate(conversations):
        context = tokenizer.apply_chat_template(conv, add_generation_prompt=True, tokenize=False)
        for index, continuation in enumerate(continuations):
            requests.append(
                Instance(
                    request_type="loglikelihood",
                    doc={},
                    arguments=(context, continuation),
                    idx=index,
                    metadata=("legal_classifier", doc_id, 1),
                )
            )
    return requests


def trace_item(model, tokenizer, conversation, candidates, bench_lls, lm_lls, *, index: int) -> dict:
    """One item scored the plainest way (an unpadded forward per candidate), against both scorers.

    Gaps are relative to the first label, as lm-eval's sums carry one more token (the newline)."""
    import torch

    from harness.model.generate import encode_prompts

    prompt = encode_prompts(tokenizer, [conversation])[0]
    reference = []
    for ids in candidates:
        with torch.inference_mode():
            logprobs = model(torch.tensor([prompt + ids])).logits[0].float().log_softmax(-1)
        reference.append(sum(logprobs[len(prompt) - 1 + j, token].item() for j, token in enumerate(ids)))

    def gap(lls) -> float:
        return max(abs((lls[c] - lls[0]) - (reference[c] - reference[0])) for c in range(len(reference)))

    ordered = sorted(reference, reverse=True)
    return {
        "item": index,
        "prompt_tokens": len(prompt),
        "bench_pick": first_max(bench_lls),
        "lm_eval_pick": first_max(lm_lls),
        "reference_pick": first_max(reference),
        "bench_gap_to_reference": gap(bench_lls),
        "lm_eval_gap_to_reference": gap(lm_lls),
        "reference_margin": ordered[0] - ordered[1] if len(ordered) > 1 else float("inf"),
        "reference_loglikelihoods": reference,
    }


def write_figures(path: Path, figures: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n")


def first_max(values) -> int:
    values = list(values)
    return values.index(max(values))


def score_in_this_process(scorer: str, args) -> dict:
    """One scorer's log-likelihoods and seconds (run in a child: see ``in_child``)."""
    if scorer == "bench":
        from harness.core.startup import start_like_bench

        start_like_bench(sys.argv, heap=True)  # as the bench command starts, and on glibc as bench run does
    import torch

    from harness.model.rank import choice_token_ids, rank_choices

    _, _, conversations, choices = suite_items(args.limit)
    model, tok = load_model(args.model, args.dtype)
    out = {"threads": torch.get_num_threads()}
    if scorer == "bench":
        rank_choices(
            model, tok, conversations[:2], choices, batch_size=2
        )  # warm-up: first-call costs count for neither
        started = time.perf_counter()
        ranked = rank_choices(model, tok, conversations, choices, batch_size=args.batch_size)
        out["seconds"] = time.perf_counter() - started
        out["loglikelihoods"] = [list(r.loglikelihoods) for r in ranked]
        out["peak_rss_mb"] = peak_rss_mb()
        return out
    from lm_eval.models.huggingface import HFLM

    candidates = choice_token_ids(tok, conversations[0], choices)
    continuations = [tok.decode(ids) for ids in candidates]  # the answer and its end-of-turn token
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=args.lm_eval_batch_size or args.batch_size)
    requests = lm_eval_requests(tok, conversations, continuations)
    # Same tokens scored? lm-eval's continuation is bench's candidate after the newline it moved over.
    context, continuation = requests[0].args
    out["same_tokens_scored"] = lm._encode_pair(context, continuation)[1][-len(candidates[0]) :] == candidates[0]
    lm.loglikelihood(requests[: 2 * len(choices)], disable_tqdm=True)  # warm-up
    started = time.perf_counter()
    scored = lm.loglikelihood(requests, disable_tqdm=True)
    out["seconds"] = time.perf_counter() - started
    out["peak_rss_mb"] = peak_rss_mb()
    n = len(choices)
    out["loglikelihoods"] = [[ll for ll, _ in scored[i * n : (i + 1) * n]] for i in range(len(conversations))]
    return out


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def load_model(name: str, dtype: str):
    from harness.core.errors import BenchError
    from harness.model.loading import load_base

    try:
        base = load_base(name, dtype=dtype)
    except BenchError as exc:
        sys.exit(f"{exc.message}" + (f"\nhint: {exc.hint}" if exc.hint else ""))
    return base.model, base.tokenizer


def in_child(script: str, name: str, argv: list[str]) -> dict:
    """Run ``script --child NAME argv`` in a fresh process and read the JSON line it prints last.

    Each side of a comparison gets its own process, so each runs with its own defaults: bench with
    the heap setting ``bench run`` takes (harness/core/heap.py), the peer with glibc's."""
    import subprocess

    child = subprocess.run(
        [sys.executable, script, "--child", name, *argv], capture_output=True, text=True, check=False
    )
    if child.returncode != 0:
        sys.exit(f"{name}: exit {child.returncode}\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model",
        default="smollm2-135m-instruct",
        help="a bench alias (pulled with bench models pull) or a saved HF model folder",
    )
    parser.add_argument("--limit", type=int, default=300, help="first N test items of legal_classifier")
    parser.add_argument("--batch-size", type=int, default=32, help="bench: prompts per batch (each with every label)")
    parser.add_argument(
        "--lm-eval-batch-size", type=int, default=None, help="lm-eval: requests per batch (default: --batch-size)"
    )
    parser.add_argument(
        "--dtype", default="float32", choices=["float32", "bfloat16"], help="the model's weights, for both scorers"
    )
    parser.add_argument("--trace", type=int, default=5, help="also trace this many items with the largest gaps")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", choices=["bench", "lm-eval"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(score_in_this_process(args.child, args)))
        return

    argv = [a for a in sys.argv[1:] if a != "--json" and a != str(args.json)]
    ours = in_child(__file__, "bench", argv)
    theirs = in_child(__file__, "lm-eval", argv)
    spec, items, conversations, choices = suite_items(args.limit)
    model, tok = load_model(args.model, args.dtype)  # for the trace only
    from harness.model.rank import choice_token_ids

    candidates = choice_token_ids(tok, conversations[0], choices)
    bench_lls, lm_lls = ours["loglikelihoods"], theirs["loglikelihoods"]
    bench_seconds, lm_seconds = ours["seconds"], theirs["seconds"]
    n_choices = len(choices)
    bench_picks = [first_max(lls) for lls in bench_lls]
    lm_picks = [first_max(lls) for lls in lm_lls]
    agree = sum(a == b for a, b in zip(bench_picks, lm_picks)) / len(items)
    # Relative to the first label: lm-eval's extra newline token cancels out.
    item_gaps = [
        max(abs((ours_[c] - ours_[0]) - (theirs_[c] - theirs_[0])) for c in range(n_choices))
        for ours_, theirs_ in zip(bench_lls, lm_lls)
    ]
    max_diff = max(item_gaps)
    disagreeing = [i for i, (a, b) in enumerate(zip(bench_picks, lm_picks)) if a != b]
    widest = sorted(range(len(items)), key=lambda i: -item_gaps[i])[: args.trace]
    traced = [
        trace_item(model, tok, conversations[i], candidates, bench_lls[i], lm_lls[i], index=i)
        for i in sorted(set(disagreeing) | set(widest))
    ]
    labels = spec.task.labels
    bench_accuracy = sum(labels[pick] == item.label for pick, item in zip(bench_picks, items)) / len(items)
    lm_accuracy = sum(labels[pick] == item.label for pick, item in zip(lm_picks, items)) / len(items)

    figures = {
        "model": args.model,
        "threads": ours["threads"],
        "items": len(items),
        "labels": n_choices,
        "batch_size": args.batch_size,
        "lm_eval_batch_size": args.lm_eval_batch_size or args.batch_size,
        "bench_seconds": bench_seconds,
        "lm_eval_seconds": lm_seconds,
        "bench_items_per_second": len(items) / bench_seconds,
        "lm_eval_items_per_second": len(items) / lm_seconds,
        "speedup": lm_seconds / bench_seconds,
        "bench_peak_rss_mb": ours["peak_rss_mb"],
        "lm_eval_peak_rss_mb": theirs["peak_rss_mb"],
        "same_choice_share": agree,
        "max_relative_loglikelihood_diff": max_diff,
        "same_tokens_scored": theirs["same_tokens_scored"],
        "bench_accuracy": bench_accuracy,
        "lm_eval_accuracy": lm_accuracy,
        "dtype": args.dtype,
        "load_average_1min": os.getloadavg()[0],
        "disagreeing_items": disagreeing,
        "traced": traced,
    }
    print(f"{args.limit} items x {n_choices} labels, {args.dtype}, {ours['threads']} threads, batch {args.batch_size}")
    print(f"{'scorer':28s} {'seconds':>8s} {'items/s':>8s} {'accuracy':>9s} {'peak MB':>8s}")
    for name, seconds, accuracy, peak in [
        ("bench rank_choices", bench_seconds, bench_accuracy, ours["peak_rss_mb"]),
        ("lm-eval HFLM.loglikelihood", lm_seconds, lm_accuracy, theirs["peak_rss_mb"]),
    ]:
        print(f"{name:28s} {seconds:8.1f} {len(items) / seconds:8.2f} {accuracy:9.3f} {peak:8.0f}")
    print(
        f"speedup {figures['speedup']:.2f}x (target 10x); same choice on {agree:.1%} of items (target 100%); "
        f"max relative log-likelihood difference {max_diff:.2e}; same tokens scored: {figures['same_tokens_scored']}; "
        f"load {figures['load_average_1min']:.1f}"
    )
    for t in traced:
        print(
            f"item {t['item']:3d} ({t['prompt_tokens']} prompt tokens): bench picks {t['bench_pick']}, lm-eval "
            f"{t['lm_eval_pick']}, reference {t['reference_pick']}; largest gap to the reference: bench "
            f"{t['bench_gap_to_reference']:.1e}, lm-eval {t['lm_eval_gap_to_reference']:.1e}; reference margin "
            f"between the two best labels {t['reference_margin']:.1e}"
        )
    if args.json:
        write_figures(args.json, figures)


if __name__ == "__main__":
    main()
