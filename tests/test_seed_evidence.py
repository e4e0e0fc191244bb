"""benchmarks/seed_evidence.py: the suite copy it runs is a valid suite (no model needed)."""

import importlib.util
from pathlib import Path

import yaml

from harness.core.trust import Trust
from harness.suite.load import load_suite
from harness.variants.base import variant_configs

REPO = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("seed_evidence", REPO / "benchmarks" / "seed_evidence.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_evidence_copy_of_the_legal_suite_loads_with_its_seeds_and_planted_steps(tmp_path):
    # legal_classifier's LoRA names its target modules in a list: a shallow copy for the planted
    # variant shared that list, yaml dumped it as an alias, and the suite loader refused the file.
    suite_path = REPO / "suites" / "legal_classifier.yaml"
    suite = _script().evidence_suite(suite_path, "lora", seeds=5, fraction=0.25, probes=False)
    written = tmp_path / "suite.yaml"
    written.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")

    loaded = load_suite(written, variant_configs(), Trust.granted(allow_paths=[suite_path.parent]))

    variants = {v.name: v for v in loaded.spec.variants}
    assert sorted(variants) == ["lora", "lora-planted"]
    assert variants["lora"].seeds == 5
    # 640 training rows, batch 8, 2 epochs: 160 planned steps; a quarter of them for the planted copy.
    assert variants["lora-planted"].training.max_steps == 40
    assert variants["lora-planted"].target_modules == variants["lora"].target_modules
    assert loaded.spec.probes.tasks == []  # --no-probes
