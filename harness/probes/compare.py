"""Compare a variant's probe scores with the base model's, item by item.

The interval on each delta is paired (harness.stats.intervals): for 0/1 item
scores the continuity-corrected score interval of a paired difference of
proportions, otherwise a paired bootstrap (resample the items, the same ones for
base and variant, recompute the mean difference, take the 2.5th and 97.5th
percentiles). Pairing matters: both models answer the same items, so most of
the item-to-item variance cancels.

It also checks that the variant is really a different model. lm-eval can
silently score the base model instead of the adapter (an adapter not attached,
or attached with zero weights); then every per-item log-likelihood equals the
base's. That raises AdapterNotAppliedError instead of reporting "no forgetting".
"""

from __future__ import annotations

import numpy as np

from harness.core.errors import BenchError
from harness.stats import intervals, policy

# Measured on SmolLM2-135M fp32, 40 items: the same weights twice with the same
# batch size give bit-identical log-likelihoods; batch size 8 vs 3 moves them by
# at most 9e-6; a LoRA whose B is ~N(0, 1e-4) (about one Adam step) by 5e-3.
# The threshold sits between float noise and the smallest real adapter.
LOGLIKELIHOOD_ATOL = 1e-4


class AdapterNotAppliedError(BenchError):
    """The variant scored exactly like the base model: its weights never took effect."""


def adapter_applied(base_ll: list[float], variant_ll: list[float]) -> bool | None:
    """True if any item's log-likelihood moved; None when there is nothing to compare."""
    if not base_ll or not variant_ll:
        return None  # generation tasks log no log-likelihoods
    if len(base_ll) != len(variant_ll):
        raise ValueError(f"log-likelihoods for {len(base_ll)} vs {len(variant_ll)} items")
    moved = np.max(np.abs(np.asarray(variant_ll) - np.asarray(base_ll)))
    return bool(moved > LOGLIKELIHOOD_ATOL)


def verdict(low: float, high: float) -> str:
    if high < 0:
        return "worse"
    if low > 0:
        return "better"
    return "inconclusive"


def compare_to_base(base: dict, variant: dict, *, seed: int = 0) -> dict:
    """Per probe task: base and variant scores, delta with a paired interval, adapter check.

    Tasks unavailable on either side are reported as unavailable. Raises
    AdapterNotAppliedError when, on any task with log-likelihoods, the
    variant's equal the base's on every item.
    """
    comparison: dict[str, dict] = {}
    unchanged: list[str] = []
    for task in dict.fromkeys([*base, *variant]):  # union, in order
        b, v = base.get(task), variant.get(task)
        if not b or not v or b["status"] != "ok" or v["status"] != "ok":
            reason = next((s["reason"] for s in (b, v) if s and s.get("reason")), None)
            comparison[task] = {"status": "unavailable", "reason": reason or "not run for both models"}
            continue
        _check_paired(task, b, v)
        _, low, high = intervals.paired_mean_delta(b["per_item"], v["per_item"], seed=seed)
        applied = adapter_applied(b["loglikelihoods"], v["loglikelihoods"])
        if applied is False:
            unchanged.append(task)
        comparison[task] = {
            "status": "ok",
            "metric": b["metric"],
            "base": b["score"],
            "variant": v["score"],
            "delta": v["score"] - b["score"],
            "ci_low": low,
            "ci_high": high,
            "ci_method": intervals.paired_mean_method(b["per_item"], v["per_item"]),
            "verdict": verdict(low, high),
            "n": b["n"],
            "adapter_applied": applied,
        }
    if unchanged:
        raise AdapterNotAppliedError(
            f"the variant's per-item log-likelihoods equal the base model's on {', '.join(unchanged)} "
            f"(within {LOGLIKELIHOOD_ATOL}): the probes scored the base weights, not the variant",
            hint="check that the adapter is attached (pass the PeftModel, not its base_model), that its "
            "weights are not all zero (LoRA's B starts at zero until trained) and that the trained weights "
            "were loaded; variants that do not change weights (prompting, RAG) have nothing to compare here",
        )
    return comparison


def ci_method() -> str:
    return (
        f"paired bootstrap over items, {policy.resample_count(None)} resamples, "
        f"{policy.CONFIDENCE:.0%} percentile interval"
    )


def _check_paired(task: str, b: dict, v: dict) -> None:
    if b["n"] != v["n"] or b.get("items_hash") != v.get("items_hash"):
        raise ValueError(
            f"{task}: base and variant were scored on different items "
            f"({b['n']} vs {v['n']} items); run both with the same limit"
        )
