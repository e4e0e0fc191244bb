"""bf16 on a machine that would emulate it: the suite runs in fp32 and every change is named."""

from __future__ import annotations

from pathlib import Path

from harness.model.precision import cpu_has_native_bf16, fit_precision
from harness.suite import load_suite
from harness.variants.base import variant_configs

REPO = Path(__file__).resolve().parents[2]


def shipped(name: str):
    return load_suite(REPO / "suites" / name, variant_configs()).spec


def test_every_half_precision_setting_falls_back_and_is_named():
    spec = shipped("legal_classifier.yaml")
    assert spec.base_model.dtype == "bfloat16" and spec.training.bf16 and spec.inference.bf16
    fitted, changes = fit_precision(spec, slow_bf16=True)
    assert fitted.base_model.dtype == "float32"
    assert not fitted.training.bf16 and not fitted.inference.bf16
    assert changes["base_model.dtype"] == ["bfloat16", "float32"]
    assert changes["training.bf16"] == [True, False] and changes["inference.bf16"] == [True, False]
    # Everything else is the suite as written: same variants, same data, same seed.
    assert [v.name for v in fitted.variants] == [v.name for v in spec.variants]
    assert fitted.task == spec.task and fitted.seed == spec.seed
    assert spec.base_model.dtype == "bfloat16"  # the loaded suite itself is untouched


def test_a_variant_overriding_bf16_and_qlora_compute_dtype_fall_back_too():
    spec = shipped("legal_classifier_sweep.yaml")
    qlora = next(v for v in spec.variants if v.kind == "qlora")
    lora = next(v for v in spec.variants if v.kind == "lora")
    lora = lora.model_copy(update={"training": lora.training.model_copy(update={"bf16": True})})
    spec = spec.model_copy(
        update={"variants": [lora, qlora], "training": spec.training.model_copy(update={"bf16": False})}
    )
    fitted, changes = fit_precision(spec, slow_bf16=True)
    assert changes[f"variants[{lora.name}].training.bf16"] == [True, False]
    assert changes[f"variants[{qlora.name}].compute_dtype"] == [qlora.compute_dtype, "float32"]
    assert fitted.variants[0].training.bf16 is False and fitted.variants[1].compute_dtype == "float32"


def test_no_change_where_bf16_is_native_or_the_suite_keeps_it():
    spec = shipped("legal_classifier.yaml")
    assert fit_precision(spec, slow_bf16=False) == (spec, {})
    kept = spec.model_copy(update={"base_model": spec.base_model.model_copy(update={"precision_fallback": False})})
    assert fit_precision(kept, slow_bf16=True) == (kept, {})


def test_the_machine_check_reads_cpu_flags():
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        assert cpu_has_native_bf16()
    elif " avx2 " in flags:  # an x86 CPU without a bf16 instruction
        assert not cpu_has_native_bf16()
