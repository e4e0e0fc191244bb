"""Whether this machine computes in bf16 natively, and a suite's precision fitted to it.

The shipped suites ask for bf16 (weights and autocast), measured about seven times
faster than fp32 on a CPU with AVX512-BF16 (../shared/DESIGN.md §5). On an x86 CPU
without it, PyTorch emulates bf16 matmuls: measured on a 2-core AMD EPYC without
AVX512, 0.28 GFLOP/s against 104 GFLOP/s in fp32, so a bf16 run takes hours where
fp32 takes minutes. bench then runs the suite in fp32 and says so, loudly, in the
console and in the run's manifest; a suite that must keep bf16 regardless sets
``base_model.precision_fallback: false``.
"""

from __future__ import annotations

import platform
from functools import cache
from pathlib import Path

from harness.suite.schema import Suite

# x86 CPU flags with a native bf16 dot product (Cooper Lake / Zen 4 and later; Sapphire Rapids AMX).
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@cache
def cpu_has_native_bf16() -> bool:
    """True unless this is an x86 Linux CPU whose flags lack a bf16 instruction.

    Elsewhere (ARM, macOS, no /proc) bench cannot tell cheaply and trusts the suite.
    """
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
        return True
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return True
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            return any(flag in line.split() for flag in NATIVE_BF16_FLAGS)
    return True


def slow_bf16_here() -> bool:
    """bf16 would be emulated: no GPU and an x86 CPU without a bf16 instruction."""
    import torch

    return not torch.cuda.is_available() and not cpu_has_native_bf16()


def fit_precision(spec: Suite, *, slow_bf16: bool | None = None) -> tuple[Suite, dict[str, list]]:
    """The suite with every half-precision setting that would run emulated here set to fp32.

    Returns the suite to run and the changes as {setting: [asked, used]} (empty when
    none, or when the suite keeps its precision with ``base_model.precision_fallback: false``).
    ``slow_bf16`` overrides the machine check (tests).
    """
    slow = slow_bf16_here() if slow_bf16 is None else slow_bf16
    if not slow or not spec.base_model.precision_fallback:
        return spec, {}
    changes: dict[str, list] = {}
    base_model, training, inference = spec.base_model, spec.training, spec.inference
    if base_model.dtype != "float32":
        changes["base_model.dtype"] = [base_model.dtype, "float32"]
        base_model = base_model.model_copy(update={"dtype": "float32"})
    if training.bf16:
        changes["training.bf16"] = [True, False]
        training = training.model_copy(update={"bf16": False})
    if inference.bf16:
        changes["inference.bf16"] = [True, False]
        inference = inference.model_copy(update={"bf16": False})
    variants = []
    for variant in spec.variants:
        overrides = getattr(variant, "training", None)
        if overrides is not None and getattr(overrides, "bf16", None):
            changes[f"variants[{variant.name}].training.bf16"] = [True, False]
            variant = variant.model_copy(update={"training": overrides.model_copy(update={"bf16": False})})
        compute_dtype = getattr(variant, "compute_dtype", "float32")  # QLoRA's dequantised matmuls
        if compute_dtype != "float32":
            changes[f"variants[{variant.name}].compute_dtype"] = [compute_dtype, "float32"]
            variant = variant.model_copy(update={"compute_dtype": "float32"})
        variants.append(variant)
    fitted = spec.model_copy(
        update={"base_model": base_model, "training": training, "inference": inference, "variants": variants}
    )
    return fitted, changes
