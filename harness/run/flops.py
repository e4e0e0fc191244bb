"""Estimated FLOPs of training and inference, and this machine's measured matmul peak.

The estimates are the standard dense-transformer counts (Kaplan et al., 2020;
Hoffmann et al., 2022 app. F), with N the parameters a token passes through
and T the tokens processed:

- forward: 2·N·T (one multiply and one add per weight per token);
- training all weights: 6·N·T, i.e. the forward, plus 2·N·T for gradients
  with respect to activations, plus 2·N·T for gradients with respect to weights;
- training an adapter (LoRA, IA3, prompt and prefix tuning, QLoRA): the forward
  2·N·T, the activation gradients 2·N·T (backward still runs through the frozen
  layers to reach the adapters below them), and weight gradients only for the
  N_trainable adapter weights: (4·N + 2·N_trainable)·T.

N counts each weight once, so tied input and output embeddings count once: the
output projection is a real matmul per token, the input lookup is not. Attention
score FLOPs (2·layers·context·width per token) are left out: with prompts of a
few hundred tokens they are a few percent of the total. T counts real tokens,
not padding; the trained-token count includes the prompt, since the forward
runs over it even when the loss is on the answer only. Training time includes
the validation passes, so training utilisation is a slight underestimate.

Utilisation is achieved FLOP/s over the peak of a large matmul on this machine,
measured once per machine and cached per CPU model and thread count (or GPU
model) in ``<cache>/machine_peak.json``; a process that finds its machine there
does not measure again. Other processes on a shared machine can only make a
measurement lower than the true peak, never higher, so a new measurement keeps
the highest figure seen for each dtype. A dtype the CPU only emulates (bf16
without AVX512-BF16 runs at well under 1 GFLOP/s) is told apart by a small
product first and timed at that size: one 2048 matmul then takes a minute
(an AVX2-only AMD EPYC, 2026-12-03), which every run on a new machine, and every
test with a cache of its own, paid for a figure that only says "emulated".
Generation is bound by memory bandwidth, not by matmul throughput, so
inference utilisation is small by nature.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

PEAK_MATRIX_SIZE = 2048
PEAK_REPEATS = 5
SLOW_MATMUL_SECONDS = 2.0  # a dtype whose full-size matmul would take longer is timed at PROBE_MATRIX_SIZE
PROBE_MATRIX_SIZE = 256  # 34 MFLOP: a millisecond in fp32, a tenth of a second in emulated bf16


def forward_flops(n_params: int, tokens: int) -> float:
    return 2.0 * n_params * tokens


def training_flops(n_params: int, n_trainable: int, tokens: int) -> float:
    """6·N·T when every weight trains; (4·N + 2·N_trainable)·T for an adapter."""
    if n_trainable >= n_params:
        return 6.0 * n_params * tokens
    return (4.0 * n_params + 2.0 * n_trainable) * tokens


def peak_dtype(compute_dtype: str) -> str:
    """The measured peak that bounds a computation in ``compute_dtype``.

    float16 is measured only on CUDA, where tensor cores run it at bf16's rate;
    on a CPU without fp16 units bf16's peak is the generous bound.
    """
    return "bfloat16" if compute_dtype in ("bfloat16", "float16") else "float32"


def machine_key() -> str:
    """What the peak depends on: the GPU model, or the CPU model and torch's thread count."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    from harness.records.manifest import machine

    info = machine()
    return f"cpu:{info['cpu']}:threads={info['torch_threads']}"


def peak_cache_path() -> Path:
    from harness.model.provision import cache_root

    return cache_root() / "machine_peak.json"


_measured_in_this_process: dict[tuple, dict] = {}


def machine_peak(*, size: int | None = None, repeats: int | None = None, remeasure: bool = False) -> dict:
    """``{"float32": FLOP/s, "bfloat16": FLOP/s, "key": ..., "size": ...}``: the best seen on this machine.

    ``remeasure``: measure even if the cache knows this machine (benchmarks, on a quiet machine)."""
    size, repeats = size or PEAK_MATRIX_SIZE, repeats or PEAK_REPEATS
    path = peak_cache_path()
    key = machine_key()
    memo = (str(path), key, size)
    if memo in _measured_in_this_process:
        return _measured_in_this_process[memo]
    cached = _read_cache(path)
    if not remeasure and cached.get(key, {}).get("size") == size:  # measured before on this machine
        _measured_in_this_process[memo] = cached[key]
        return cached[key]
    measured = measure_matmul_peak(size=size, repeats=repeats)
    previous = cached.get(key, {}) if cached.get(key, {}).get("size") == size else {}
    peak = {
        "key": key,
        "size": size,
        **{dtype: max(value, previous.get(dtype, 0.0)) for dtype, value in measured.items()},
    }
    cached[key] = peak
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(cached, indent=2, sort_keys=True))
    tmp.replace(path)  # atomic: a concurrent run reads the old file or the new, never half of one
    _measured_in_this_process[memo] = peak
    return peak


def measure_matmul_peak(*, size: int, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` FLOP/s of a size×size matmul, per dtype, after one warm-up.

    Each dtype is first timed on a small product (twice: the first call also starts the thread pool).
    If that rate says a full-size product would take over SLOW_MATMUL_SECONDS, the dtype is emulated
    and the small product's rate is its figure (a generous one: emulation runs faster in cache). A small
    product runs below a large one's rate on native hardware, so a fast dtype is not taken for a slow one."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16}
    if device == "cuda":
        dtypes["float16"] = torch.float16
    generator = torch.Generator(device="cpu").manual_seed(0)
    result = {}
    for name, dtype in dtypes.items():
        probe = max(_matmul_rates(min(size, PROBE_MATRIX_SIZE), dtype, device, generator, timings=2))
        if 2.0 * size**3 / probe > SLOW_MATMUL_SECONDS:
            result[name] = probe
            continue
        result[name] = max(_matmul_rates(size, dtype, device, generator, timings=1 + repeats)[1:])  # [0]: warm-up
    return result


def _matmul_rates(size: int, dtype, device: str, generator, *, timings: int) -> list[float]:
    """FLOP/s of ``timings`` successive products of two random size×size matrices."""
    import torch

    a = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
    b = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
    rates = []
    for _ in range(timings):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        torch.matmul(a, b)
        if device == "cuda":
            torch.cuda.synchronize()
        rates.append(2.0 * size**3 / (time.perf_counter() - started))
    return rates


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cost_estimates(
    cost: dict, *, n_items: int, peak: dict, train_bf16: bool, price_per_hour: float | None, infer_bf16: bool = False
) -> dict:
    """FLOPs, utilisation and money for one variant, from the figures already in its cost record.

    Reads total_params, trainable_params, trained_tokens (or train_computed_tokens),
    train_seconds, prompt_tokens_mean (or computed_prompt_tokens_mean), output_tokens_mean, infer_seconds, prepare_seconds,
    compute_dtype and (prompt learning) virtual_tokens. ``train_bf16``: training
    ran under bf16 autocast, so its matmuls are bounded by the bf16 peak;
    ``infer_bf16`` likewise for predictions.
    """
    n_params = cost["total_params"]
    compute_dtype = cost.get("compute_dtype", "float32")
    infer_peak = peak[peak_dtype("bfloat16" if infer_bf16 else compute_dtype)]
    train_peak = peak[peak_dtype("bfloat16" if train_bf16 else compute_dtype)]
    # FLOPs of the tokens that actually ran: a prefix shared by every prompt (inference) or
    # every row of a batch (training) runs once, so utilisation never counts skipped work.
    prompt_tokens = cost.get("computed_prompt_tokens_mean") or cost["prompt_tokens_mean"]
    tokens_per_item = prompt_tokens + cost["output_tokens_mean"] + cost.get("virtual_tokens", 0)
    infer_flops = forward_flops(n_params, round(tokens_per_item * n_items))
    train_tokens = cost.get("train_computed_tokens") or cost.get("trained_tokens", 0)
    train_flops = training_flops(n_params, cost["trainable_params"], train_tokens)
    out = {
        "train_flops": train_flops,
        "infer_flops": infer_flops,
        "train_peak_flops_per_second": train_peak,
        "infer_peak_flops_per_second": infer_peak,
        "train_utilisation": train_flops / cost["train_seconds"] / train_peak if cost.get("train_seconds") else None,
        "infer_utilisation": infer_flops / cost["infer_seconds"] / infer_peak if cost.get("infer_seconds") else None,
        "price_per_hour": price_per_hour,
        "usd": None,
    }
    if price_per_hour is not None:
        out["usd"] = (cost["prepare_seconds"] + cost["infer_seconds"]) / 3600 * price_per_hour
    return out
