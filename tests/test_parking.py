"""The shared base is parked while QLoRA works on its own 4-bit copy, and comes back bit for bit (issue 22)."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest
import torch

from harness.core.files import read_json, read_jsonl
from harness.model.loading import load_base
from harness.model.parking import parked
from harness.run.recipe import run_suite


def test_parked_weights_leave_memory_and_come_back_bit_for_bit_in_the_same_objects(tiny_model_dir):
    base = load_base(str(tiny_model_dir))
    model = base.model
    objects = dict(model.named_parameters())
    values = {name: p.detach().clone() for name, p in objects.items()}
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        expected = model(ids).logits
    footprint = model.get_memory_footprint()

    with parked(base):
        assert {p.device.type for p in model.parameters()} == {"meta"}  # nothing of them left in memory
        # Shapes and dtypes stay: the cost record's parameter count and footprint still read right.
        assert model.get_memory_footprint() == footprint
        with pytest.raises((RuntimeError, NotImplementedError)), torch.no_grad():
            model(ids).logits.sum().item()  # a stage that used the parked base fails; it never computes on it

    restored = dict(model.named_parameters())
    assert all(restored[name] is objects[name] for name in objects)  # whoever holds the model still holds these
    assert all(torch.equal(restored[name], values[name]) for name in objects)
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight  # still tied
    with torch.no_grad():
        assert torch.equal(model(ids).logits, expected)


def test_a_run_parks_the_base_while_qlora_runs_and_later_variants_answer_as_before(tiny_suite, tmp_path, monkeypatch):
    pytest.importorskip("bitsandbytes")
    from harness.variants.qlora import QLora

    seen = []
    adapt = QLora.model_to_adapt

    def recording(self):
        seen.append({p.device.type for p in self.env.base.model.parameters()})
        return adapt(self)

    monkeypatch.setattr(QLora, "model_to_adapt", recording)
    text = tiny_suite.read_text().split("  - name: few-shot")[0]
    tiny_suite.write_text(
        text + "  - {name: qlora, kind: qlora, r: 4, alpha: 8}\n  - {name: zero-shot-again, kind: zero_shot}\n"
    )
    run_dir = run_suite(tiny_suite, tmp_path / "run").run_dir
    results = read_json(run_dir / "results.json")["variants"]

    assert seen == [{"meta"}]  # QLoRA trained with the shared base out of memory
    assert results["qlora"]["status"] == "ok", results["qlora"]["reason"]
    # The base came back whole: the same prompts get the same answers, token for token, after QLoRA as before it.
    outputs = {}
    for row in read_jsonl(run_dir / "samples.jsonl"):
        outputs.setdefault(row["variant"], []).append(row["raw_output"])
    assert outputs["zero-shot-again"] == outputs["zero-shot"]
    cost = results["qlora"]["cost"]  # counted on its own model: the base's parameters and the adapter's
    assert cost["total_params"] == results["zero-shot"]["cost"]["total_params"] + cost["trainable_params"]


def resident_mb_of(path) -> float:
    """This process's resident pages of ``path``'s mappings (/proc/self/smaps), in MB."""
    total, current = 0, None
    for line in open("/proc/self/smaps", encoding="utf-8"):
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:  # a mapping's header line
            current = fields[5] if len(fields) >= 6 else None
        elif fields[0] == "Rss:" and current == str(path):
            total += int(fields[1])
    return total / 1024


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads the process's mappings from /proc (Linux)")
def test_a_cpu_4bit_copy_keeps_no_view_of_the_weights_file(tiny_model_dir, tmp_path):
    """Quantising reads every weight; a tensor left viewing the file keeps all those pages resident."""
    pytest.importorskip("bitsandbytes")
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from harness.variants.qlora import release_file_views

    # A copy of its own: other tests' models in this process may still map the shared tiny model's file.
    folder = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    weights = (folder / "model.safetensors").resolve()
    quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.float32)
    model = AutoModelForCausalLM.from_pretrained(folder, quantization_config=quantization)
    assert resident_mb_of(weights) > 0  # the premise: the 4-bit load left views of the file
    with torch.no_grad():
        expected = model(torch.tensor([[1, 2, 3, 4]])).logits

    release_file_views(model)
    gc.collect()
    assert resident_mb_of(weights) == 0
    with torch.no_grad():
        assert torch.equal(model(torch.tensor([[1, 2, 3, 4]])).logits, expected)  # the same weights, copied
