"""How fast a finished run could have been on its own machine: the matmul work it executed at the machine's peak.

A time target ("the default suite under 10 minutes", "the sweep in 15") is only
reachable if the work it asks for fits the machine at all. This script reads a
run folder that ``bench run`` wrote (results.json, manifest.json) and, for each
variant, counts a lower bound on the matrix-multiply FLOPs its training and its
predictions executed, divides by the matmul peak bench measured on that machine
(the same figure behind every utilisation in the report, harness/run/flops.py),
and sets that floor beside the seconds the stage took.

The count is a floor by construction, so a floor above a target proves the
target out of reach for that recipe on that machine:

- only the decoder body's weight matrices count (N_body: neither the
  embedding nor the LM head, tied or not, nor norms), 2·N_body per token and
  pass; the LM head counts only for generated tokens (training projects only
  answer positions, and a prompt's forward projects only its last position); a
  generated token's body pass counts for all but a row's last one, which is
  never fed back;
- training counts the forward; gradient checkpointing's replayed forward when
  the variant trained with it, over the layers a gradient passes through and
  the tokens outside each batch's shared-prefix pass (which runs un-checkpointed,
  harness/training/shared_prefix_loss.py); the
  backward's activation gradients over those layers but the lowest (2·N_body
  each, scaled by the layers); and weight gradients for what trains
  (2·N_trainable: the adapter; every body weight for a full fine-tune). Whether
  it checkpointed comes from the variant's training record; in records written
  before it said, from the suite's setting, and never for prompt and prefix
  tuning (they trained without it until 27e3f86);
- tokens are the ones that ran (a prefix shared by a batch's rows once), from
  the variant's cost record; predictions: its items' computed prompt tokens and
  output tokens; a merge check's second generation of the same items (its own
  row, as the run times it apart) counts the same tokens again;
- training's validation passes count as predictions of the validation items
  (read from the run's validation file), once per evaluation that scored an
  accuracy, since train_seconds include them; the trainer's validation loss
  pass does not;
- nothing else counts: attention scores, elementwise work, that loss pass,
  probes, loading. Their seconds stay in the measured total.

    python benchmarks/compute_floor.py RUN_DIR [RUN_DIR ...] [--target-minutes M]

Reads the run folder, the run's validation file and the base model's config and
tokenizer (no weights). A variant
reused from the store counts like one trained in this run: its cost record is
the one its training wrote.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def body_and_head_params(model) -> tuple[int, int, int]:
    """(weights of the decoder body's matrices, weights of the LM head, decoder layers) of a causal LM.

    Only matrices count: a norm's or a bias's weights are elementwise work, not a matmul's."""
    head = model.get_output_embeddings().weight
    embedding = model.get_input_embeddings().weight
    matrices = sum(p.numel() for p in model.parameters() if p.dim() >= 2)  # a tied weight is one parameter
    body = matrices - head.numel() - (embedding.numel() if embedding is not head else 0)
    return body, head.numel(), model.config.num_hidden_layers


def base_model_params(model_name: str) -> tuple[int, int, int]:
    """``body_and_head_params`` of a suite's base model, built on the meta device from its config (no weights)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from harness.model.provision import resolve_model

    config = AutoConfig.from_pretrained(resolve_model(model_name, allow_download=False))
    with torch.device("meta"):
        return body_and_head_params(AutoModelForCausalLM.from_config(config))


def training_floor_flops(
    cost: dict, training_config: dict, variant_config: dict, body: int, layers: int, training_record: dict | None = None
) -> float:
    """Forward over every layer; the replay over the layers that train (or pass a gradient) when checkpointed
    (``training_record["checkpointed"]``, else as the suite asked) for the tokens outside the shared-prefix passes;
    activation gradients over those above the lowest one (the lowest needs none for its input); weight gradients
    for what trains. A LoRA of the top k layers (``top_layers``) replays and back-propagates through k layers."""
    tokens = cost.get("train_computed_tokens") or cost.get("trained_tokens") or 0
    kind = variant_config.get("kind")
    reached = min(variant_config.get("top_layers") or layers, layers)
    record = training_record or {}
    checkpointed = record.get("checkpointed")
    if checkpointed is None:
        # A record from before training kept it. Virtual tokens (their cost records them) trained without
        # checkpointing until 27e3f86 and with it since, so their replay is left out: a floor for either.
        checkpointed = training_config.get("gradient_checkpointing") and not cost.get("virtual_tokens")
    per_layer = body / layers
    forward = 2 * body
    activation_grads = 2 * per_layer * (reached - 1)
    weight_grads = 2 * body if kind == "full" else 2 * cost.get("trainable_params", 0)
    replayed = tokens - prefix_tokens(cost, training_config, record) if checkpointed else 0
    return float(tokens) * (forward + activation_grads + weight_grads) + replayed * 2 * per_layer * reached


def prefix_tokens(cost: dict, training_config: dict, training_record: dict) -> int:
    """Of the tokens that ran, those in the shared-prefix passes, which run outside checkpointing: no replay.

    Records since the training kept it say so. Before, it follows from the token counts: a batch of ``b`` rows
    whose prefix of ``p`` tokens ran once saves ``(b - 1) * p`` of the tokens the rows carry, so the prefix
    passes ran ``(trained - computed) / (batch_size - 1)``, exact when every batch was full (prompt tuning's
    virtual tokens, which ran once per batch too, are left out of that: such records count no replay)."""
    if training_record.get("prefix_tokens") is not None:
        return training_record["prefix_tokens"]
    trained, computed = cost.get("trained_tokens") or 0, cost.get("train_computed_tokens")
    batch = training_config.get("batch_size") or 1
    if computed is None or batch < 2:
        return 0
    return -(-(trained - computed) // (batch - 1))  # rounded up: a replay never counted that did not run


def inference_floor_flops(cost: dict, n_items: int, body: int, head: int) -> float:
    """The body runs over each prompt token and each output token but the last (which is never fed back);
    the head once per output token. By Jensen, the mean's ``output - 1`` never exceeds the rows' own."""
    prompt = cost.get("computed_prompt_tokens_mean") or cost.get("prompt_tokens_mean") or 0.0
    output = cost.get("output_tokens_mean") or 0.0
    return n_items * ((prompt + max(output - 1, 0.0)) * 2 * body + output * 2 * head)


def validation_floor_flops(manifest: dict, variant: dict, body: int, head: int) -> float:
    """The generation passes that scored the validation items during training (one per evaluation with an
    accuracy): each item's prompt, the prefix all share once, and at least one answer token through the head.
    The trainer's validation loss pass is left out. Items are read from the run's validation file."""
    from transformers import AutoTokenizer

    from harness.data.prompts import PromptTemplate
    from harness.model.generate import encode_prompts, shared_prefix_length
    from harness.model.provision import resolve_model

    passes = sum("eval_accuracy" in e for e in (variant.get("training") or {}).get("eval_curve", []))
    path = (manifest.get("data") or {}).get("validation", {}).get("path")
    if not passes or not path:
        return 0.0
    settings = manifest["resolved_config"]
    template = PromptTemplate((variant.get("prompt") or {}).get("system_prompt") or "")  # as the variant resolved it
    items = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    conversations = [template.render([m for m in item["messages"] if m["role"] != "assistant"]) for item in items]
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(settings["base_model"]["name"], allow_download=False))
    encoded = encode_prompts(tokenizer, conversations)
    prefix = shared_prefix_length(encoded)
    computed = prefix + sum(len(ids) - prefix for ids in encoded)
    return passes * (computed * 2 * body + len(items) * 2 * head)


def floors(run_dir: Path) -> dict:
    results = json.loads((run_dir / "results.json").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    body, head, layers = base_model_params(manifest["resolved_config"]["base_model"]["name"])
    rows = []
    for name, variant in results["variants"].items():
        cost = variant.get("cost") or {}
        if cost.get("inference_mode") == "classical" or not cost.get("total_params"):
            continue  # a classical variant runs no matmul of the base model
        train = training_floor_flops(
            cost,
            variant.get("training_config") or {},
            variant.get("config") or {},
            body,
            layers,
            variant.get("training") or {},
        )
        train += validation_floor_flops(manifest, variant, body, head)  # train_seconds include those passes
        infer = inference_floor_flops(cost, variant.get("n_items") or 0, body, head)
        merge_check = variant.get("merge_check") or {}
        infer_peak = cost.get("infer_peak_flops_per_second")
        for stage, flops, peak, seconds in (
            ("train", train, cost.get("train_peak_flops_per_second"), cost.get("train_seconds")),
            ("predict", infer, infer_peak, cost.get("infer_seconds")),
            # The merged model answers the same items again, with about the same tokens.
            ("merge", infer if merge_check.get("seconds") else 0.0, infer_peak, merge_check.get("seconds")),
        ):
            if flops and peak and seconds:
                rows.append(
                    {
                        "variant": name,
                        "stage": stage,
                        "tflop": flops / 1e12,
                        "floor_s": flops / peak,
                        "measured_s": seconds,
                        "peak_gflops": peak / 1e9,
                    }
                )
    return {
        "run": str(run_dir),
        "machine": manifest.get("machine", {}),
        "n_body": body,
        "n_head": head,
        "rows": rows,
        "floor_s": sum(r["floor_s"] for r in rows),
        "counted_measured_s": sum(r["measured_s"] for r in rows),
        "total_s": manifest.get("stages", {}).get("total"),
    }


def print_table(summary: dict, target_minutes: float | None) -> None:
    machine = summary["machine"]
    print(f"\n{summary['run']}  ({machine.get('cpu') or machine.get('gpu')}, {machine.get('torch_threads')} threads)")
    print(f"N_body {summary['n_body'] / 1e6:.1f}M, embedding/head {summary['n_head'] / 1e6:.1f}M")
    print(f"{'variant':<22}{'stage':<9}{'TFLOP':>8}{'peak GF/s':>11}{'floor s':>9}{'measured s':>12}{'floor/meas':>11}")
    for r in summary["rows"]:
        print(
            f"{r['variant']:<22}{r['stage']:<9}{r['tflop']:>8.1f}{r['peak_gflops']:>11.0f}"
            f"{r['floor_s']:>9.0f}{r['measured_s']:>12.0f}{r['floor_s'] / r['measured_s']:>11.0%}"
        )
    floor, counted, total = summary["floor_s"], summary["counted_measured_s"], summary["total_s"]
    print(f"counted stages: floor {floor:.0f} s ({floor / 60:.1f} min) against {counted:.0f} s measured")
    if total:
        print(f"whole run: {total:.0f} s measured ({total / 60:.1f} min); uncounted stages {total - counted:.0f} s")
    best = max((r["floor_s"] / r["measured_s"] for r in summary["rows"]), default=0)
    if best:
        print(f"at the best utilisation of any counted stage here ({best:.0%}): {floor / best / 60:.1f} min for them")
    if target_minutes is not None:
        need = floor / (target_minutes * 60)
        verdict = "out of reach: the counted floor alone exceeds it" if need > 1 else "not excluded by the floor"
        print(f"target {target_minutes:g} min: {verdict}; the counted stages alone need {need:.0%} of the peak")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders written by bench run")
    parser.add_argument("--target-minutes", type=float, help="a wall-time target to hold the floor against")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for run in args.runs:
        missing = [name for name in ("results.json", "manifest.json") if not (run / name).is_file()]
        if missing:
            raise SystemExit(f"{run}: not a finished bench run folder ({', '.join(missing)} missing)")
    summaries = [floors(run) for run in args.runs]
    if args.json:
        print(json.dumps(summaries, indent=2))
        return
    for summary in summaries:
        print_table(summary, args.target_minutes)


if __name__ == "__main__":
    main()
