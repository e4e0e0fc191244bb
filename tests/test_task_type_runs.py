"""Extraction and generation suites through the same report and gate as classification.

Two tiers, as elsewhere:
- synthetic run folders scored by the real task rules (exact outputs, so every
  metric, paired count, failure mode and gate verdict is known in advance);
- a full ``run_suite`` of an extraction and a generation suite on the tiny
  random model (its outputs are garbage, so those tests check that every stage
  runs and reads what the task wrote, and that the gate catches a planted drop).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from unittest.mock import patch

import pytest
from conftest import TINY_SUITE, write_jsonl
from test_report import Page, assert_self_contained

from harness.core.files import read_jsonl, write_json
from harness.data.chat import Item, content_hash
from harness.gate.baseline import save_baseline
from harness.gate.evaluate import gate_run
from harness.report import write_report
from harness.report.build import build_view
from harness.stats import policy
from harness.tasks.extraction import ExtractionTaskRules
from harness.tasks.generation import Constraints, GenerationTaskRules

EXTRACTION_SCHEMA = {
    "type": "object",
    "properties": {
        "people": {"type": "array", "items": {"type": "string"}},
        "amounts": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["people", "amounts"],
    "additionalProperties": False,
}
EXTRACT = ExtractionTaskRules(schema=EXTRACTION_SCHEMA)
MIN_ROUGE_L = 0.5
GENERATE = GenerationTaskRules(
    constraints=Constraints(max_words=12, forbidden_phrases=("PO",), keep_numbers=True), min_rouge_l=MIN_ROUGE_L
)


# ----------------------------------------------------------------------------- synthetic run folders
def make_item(i: int, text: str, answer: str) -> Item:
    prompt = ({"role": "user", "content": text},)
    return Item(
        id=f"item-{i:03d}",
        prompt=prompt,
        answer=answer,
        label=None,
        source=f"test.jsonl:{i + 1}",
        content_hash=content_hash(list(prompt), answer),
    )


def write_synthetic(
    path: Path,
    task,
    task_type: str,
    items: list[Item],
    variants: dict[str, tuple[str, list[str]]],
    *,
    task_config: dict | None = None,
    max_new_tokens: int = 64,
    gate: dict | None = None,
) -> Path:
    """A run folder as `bench run` writes it: each variant's outputs scored by the real task rules.

    ``variants``: name -> (kind, one output per item). Lora variants get 30 s of training.
    """
    test_file = path / "data" / "test.jsonl"
    write_jsonl(
        test_file,
        [{"id": it.id, "messages": [*it.prompt, {"role": "assistant", "content": it.answer}]} for it in items],
    )
    records, samples = {}, []
    for index, (name, (kind, outputs)) in enumerate(variants.items()):
        rows = [
            {
                "variant": name,
                "item_id": it.id,
                "item_hash": it.content_hash,
                "prompt_hash": "p",
                "raw_output": out,
                **task.score(out, it),
                "prompt_tokens": 20,
                "output_tokens": len(out.split()),
                "latency_s": 0.01,
            }
            for it, out in zip(items, outputs)
        ]
        with patch.object(policy, "RESAMPLES", 200):  # the real scorer, fewer resamples: fast
            metrics = task.aggregate(rows, seed=index)
        train = 30.0 if kind == "lora" else 0.0
        records[name] = {
            "name": name,
            "kind": kind,
            "status": "ok",
            "reason": None,
            "config": {"name": name, "kind": kind},
            "metrics": metrics,
            "n_items": len(items),
            "key": f"k{index}",
            "reused": False,
            "training": None,
            "cost": {"train_seconds": train, "infer_seconds": 5.0 + index, "peak_rss_mb": 900.0},
        }
        samples += rows
    suite = {"name": f"synthetic-{task_type}", "path": f"suites/{task_type}.yaml", "sha256": "ab" * 32}
    results = {
        "schema_version": 1,
        "suite": suite,
        "task": {"type": task_type, "labels": None, "n_test_items": len(items)},
        "variants": records,
        "probes": {},
    }
    manifest = {
        "schema_version": 1,
        "suite": suite,
        "status": "complete",
        "created": "2025-01-01T12:00:00+00:00",
        "resolved_config": {
            "name": suite["name"],
            "seed": 5,
            "task": {"type": task_type, **(task_config or {})},
            "inference": {"max_new_tokens": max_new_tokens},
            "gate": gate or {},
        },
        "data": {
            "test": {
                "path": str(test_file),
                "sha256": hashlib.sha256(test_file.read_bytes()).hexdigest(),
                "items": len(items),
                "labels": {"": len(items)},
            }
        },
    }
    write_json(path / "manifest.json", manifest)
    write_json(path / "results.json", results)
    write_jsonl(path / "samples.jsonl", samples)
    return path


N_EXTRACT = 40


def extraction_items() -> list[Item]:
    return [
        make_item(i, f"Person {i} paid ${i}.", json.dumps({"people": [f"Person {i}"], "amounts": [f"${i}"]}))
        for i in range(N_EXTRACT)
    ]


def extraction_outputs() -> dict[str, tuple[str, list[str]]]:
    """zero-shot: no JSON; few-shot: people right, amounts never, half inside chatter; lora: 30 exact, 10 wrong person."""

    def record(i, people=None, amounts=None):
        return json.dumps(
            {
                "people": [f"Person {i}"] if people is None else people,
                "amounts": [f"${i}"] if amounts is None else amounts,
            }
        )

    return {
        "zero-shot": ("zero_shot", ["I could not find anything to extract." for _ in range(N_EXTRACT)]),
        "few-shot": ("few_shot", [("Sure: " if i % 2 else "") + record(i, amounts=[]) for i in range(N_EXTRACT)]),
        "lora": ("lora", [record(i) if i < 30 else record(i, people=["Nobody"]) for i in range(N_EXTRACT)]),
    }


@pytest.fixture(scope="module")
def extraction_run(tmp_path_factory) -> Path:
    return write_synthetic(
        tmp_path_factory.mktemp("extraction") / "run",
        EXTRACT,
        "extraction",
        extraction_items(),
        extraction_outputs(),
        task_config={"json_schema": EXTRACTION_SCHEMA},
    )


N_GENERATE = 30


def generation_items() -> list[Item]:
    return [make_item(i, f"Take {i} mg PO daily.", f"Take {i} mg by mouth every day.") for i in range(N_GENERATE)]


def generation_outputs() -> dict[str, tuple[str, list[str]]]:
    """zero-shot copies the jargon; few-shot: 20 passes, 5 off-topic, 5 drop the number; lora: 24 exact, 6 too long."""
    long_tail = " Please ask your doctor if you have any questions about it."
    few = [
        f"Take {i} mg by mouth." if i < 20 else f"Ask the pharmacist about {i}." if i < 25 else "Take mg by mouth."
        for i in range(N_GENERATE)
    ]
    return {
        "zero-shot": ("zero_shot", [f"Take {i} mg PO daily." for i in range(N_GENERATE)]),
        "few-shot": ("few_shot", few),
        "lora": (
            "lora",
            [f"Take {i} mg by mouth every day." + (long_tail if i >= 24 else "") for i in range(N_GENERATE)],
        ),
    }


@pytest.fixture(scope="module")
def generation_run(tmp_path_factory) -> Path:
    return write_synthetic(
        tmp_path_factory.mktemp("generation") / "run",
        GENERATE,
        "generation",
        generation_items(),
        generation_outputs(),
        task_config={"min_rouge_l": MIN_ROUGE_L},
    )


def fresh(run: Path, tmp_path: Path) -> Path:
    """A copy per test: reports and gate files are written into the run folder."""
    return Path(shutil.copytree(run, tmp_path / run.name))


def text_of(html: str) -> str:
    return " ".join(" ".join(Page(html).text).split())


# ----------------------------------------------------------------------------- the extraction view
def test_extraction_view_ranks_by_field_f1_and_pairs_on_field_counts(extraction_run):
    view = build_view(extraction_run)
    assert (view.task_type, view.measures.headline.key) == ("extraction", "field_f1_micro")
    lora, few, zero = (view.variant(n) for n in ("lora", "few-shot", "zero-shot"))
    # lora: tp 30 + 30 (amounts) + 10 (amounts of the wrong-person items) = 70, fp 10, fn 10 -> 140 / 160
    assert lora.metric("field_f1_micro")["value"] == pytest.approx(0.875)
    assert lora.metric("accuracy")["value"] == pytest.approx(0.75) and lora.metric("format_compliance")["value"] == 1.0
    # few-shot: people all right (F1 1), amounts never (F1 0): micro 80 / 120, macro 0.5; half the records in chatter
    assert (
        few.metric("field_f1_micro")["value"] == pytest.approx(2 / 3) and few.metric("field_f1_macro")["value"] == 0.5
    )
    assert (few.metric("parse_rate")["value"], few.metric("format_compliance")["value"]) == (0.5, 0.5)
    assert view.fields == ["people", "amounts"]
    assert [v.name for v in view.table_order] == ["lora", "few-shot", "zero-shot"]

    paired = lora.vs_base  # against zero-shot, which read nothing
    assert (len(paired.fixed), len(paired.broke), paired.metric) == (30, 0, "field_f1_micro")
    assert paired.mcnemar_p == pytest.approx(2 * 0.5**30)
    assert paired.delta == pytest.approx(0.875) and paired.verdict == "better"
    assert (paired.delta_low, paired.delta_high) == pytest.approx((0.8125, 0.9375))  # seeded paired bootstrap

    assert lora.failures.counts == {"empty": 0, "overlong": 0, "invalid": 0, "wrong_label": 10, "format_only": 0}
    assert lora.failures.top_problems == [("people", 10)] and lora.failures.confused_pairs == []
    assert zero.failures.counts["invalid"] == N_EXTRACT
    assert few.failures.counts["wrong_label"] == N_EXTRACT and few.failures.top_problems == [("amounts", N_EXTRACT)]
    example = lora.failures.examples["wrong_label"][0]
    assert example.reading == "fits the schema · wrong: people"
    assert example.gold == '{"people": ["Person 30"], "amounts": ["$30"]}'
    assert few.failures.examples["wrong_label"][1].reading == "a JSON object inside other text · wrong: amounts"

    rec = view.recommendation
    assert (rec.pick, rec.verdict) == ("lora", "clear")
    assert rec.headline == "Ship lora: it has the best field F1 (micro), 0.875, 0.875 above the base model."
    assert rec.evidence[0].startswith("lora: field F1 (micro) 0.875 (95% CI ") and rec.evidence[0].endswith(
        "record exact match 0.750 (95% CI 0.598–0.858) on 40 test items; schema compliance 100%."
    )
    assert rec.rule[0] == "Only variants that finished and have a field F1 (micro) are candidates."


def test_extraction_report_shows_field_scores_not_a_confusion_matrix(extraction_run, tmp_path):
    run = fresh(extraction_run, tmp_path)
    html = write_report(run).read_text()
    page, text = Page(html), text_of(html)
    assert {"summary", "variants", "changes", "failures", "fields", "data"} <= page.ids
    assert "confusion" not in page.ids and "fig-confusion" not in html
    for header in (
        "field F1 (micro) [95% CI]",
        "field F1 (macro) [95% CI]",
        "record exact match [95% CI]",
        "JSON parse rate",
        "schema compliance",
        "field F1 (micro) change [95% CI]",
        "fields most often wrong",
    ):
        assert header in text, header
    assert "F1 0.750 30 right, 10 extra, 10 missed · exact 75%" in text  # lora's people field
    assert "F1 0.000 0 right, 0 extra, 40 missed · exact 0%" in text  # few-shot's amounts
    assert "no JSON object" in text and "wrong fields" in text
    assert "Extraction answers are JSON records, not labels" in text
    assert 'id="fig-intervals"' in html and 'id="fig-pareto"' in html
    assert_self_contained(html)
    assert write_report(run).read_text() == html  # byte-identical when written twice
    summary = (run / "summary.md").read_text()
    assert "| variant | field F1 (micro) [95% CI] | record exact match [95% CI] | schema compliance |" in summary
    assert "| `lora` ✅ recommended | 0.875 [" in summary


# ----------------------------------------------------------------------------- the generation view
def test_generation_view_ranks_by_pass_rate_with_rouge_and_constraints(generation_run):
    view = build_view(generation_run)
    assert (view.task_type, view.measures.headline.key, view.min_rouge_l) == ("generation", "accuracy", MIN_ROUGE_L)
    lora, few, zero = (view.variant(n) for n in ("lora", "few-shot", "zero-shot"))
    assert lora.metric("accuracy")["value"] == pytest.approx(0.8) and few.metric("accuracy")["value"] == pytest.approx(
        2 / 3
    )
    # "Take i mg PO daily." shares "take i mg" with the 7-token reference: F = 2 * 3 / (5 + 7)
    assert zero.metric("rouge_l")["value"] == pytest.approx(0.5)
    # the 18-token long answer holds all 7 reference tokens in order: F = 2 * 7 / (18 + 7) = 0.56
    assert lora.metric("rouge_l")["value"] == pytest.approx((24 + 6 * 0.56) / 30)
    assert view.constraints == ["forbidden_phrases", "keep_numbers", "max_words", "non_empty"]
    assert lora.metric("per_constraint")["max_words"]["value"] == pytest.approx(0.8)
    assert zero.metric("per_constraint")["forbidden_phrases"]["value"] == 0.0
    assert few.metric("per_constraint")["keep_numbers"]["value"] == pytest.approx(25 / 30)

    paired = lora.vs_base
    assert (len(paired.fixed), len(paired.broke)) == (24, 0) and list(paired.deltas) == ["accuracy", "rouge_l", "chrf"]
    assert paired.delta == pytest.approx(0.8) and paired.deltas["rouge_l"].value == pytest.approx(0.912 - 0.5)
    assert paired.verdict == "better"

    assert zero.failures.counts == {"empty": 0, "overlong": 0, "invalid": 30, "wrong_label": 0}
    assert zero.failures.top_problems == [("forbidden_phrases", 30)]
    assert few.failures.counts == {"empty": 0, "overlong": 0, "invalid": 5, "wrong_label": 5}
    assert few.failures.top_problems == [("keep_numbers", 5)]
    assert lora.failures.top_problems == [("max_words", 6)]
    assert lora.failures.examples["invalid"][0].reading == "ROUGE-L 0.56 · chrF 0.69 · broken: max_words"

    rec = view.recommendation
    # 30 items cannot show few-shot within 2 points of lora, nor clearly worse: lora leads, the verdict waits.
    assert (rec.pick, rec.verdict) == ("lora", "inconclusive")
    assert rec.headline.startswith(
        "Inconclusive: lora has the best pass rate (0.800), but few-shot cannot be told apart from it within the "
        "practical margin of 2 points on 30 items"
    )
    assert any("rouge" in line.lower() and "ROUGE-L +0.412" in line for line in rec.evidence)
    # lora meets its constraints on 80% of items, below the 95% threshold: said plainly
    assert any(
        line.startswith("lora is not constraint-compliant: only 80% of its outputs are within every constraint")
        for line in rec.caveats
    )


def test_generation_report_shows_constraints_and_score_deltas(generation_run, tmp_path):
    run = fresh(generation_run, tmp_path)
    html = write_report(run).read_text()
    page, text = Page(html), text_of(html)
    assert {
        "summary",
        "variants",
        "changes",
        "failures",
        "constraints",
        "data",
    } <= page.ids and "confusion" not in page.ids
    for header in (
        "pass rate [95% CI]",
        "ROUGE-L [95% CI]",
        "chrF [95% CI]",
        "constraint compliance",
        "pass rate change [95% CI]",
        "ROUGE-L change [95% CI]",
        "chrF change [95% CI]",
        "constraints most often broken",
        "below pass mark",
        "constraint broken",
    ):
        assert header in text, header
    assert "pass: every constraint met and ROUGE-L ≥ 0.5" in text
    assert "ROUGE-L against the reference is below 0.5" in text
    assert "mean words per output" in text
    assert_self_contained(html)
    summary = (run / "summary.md").read_text()
    assert "| variant | pass rate [95% CI] | ROUGE-L [95% CI] | constraint compliance |" in summary


# ----------------------------------------------------------------------------- the gate on synthetic runs
def lora_only(outputs: list[str]) -> dict[str, tuple[str, list[str]]]:
    return {"lora": ("lora", outputs)}


def extraction_gate_run(path: Path, outputs: list[str], gate: dict | None = None) -> Path:
    return write_synthetic(
        path,
        EXTRACT,
        "extraction",
        extraction_items(),
        lora_only(outputs),
        task_config={"json_schema": EXTRACTION_SCHEMA},
        gate=gate,
    )


def test_extraction_baseline_keeps_the_fields_field_f1_is_computed_from(extraction_run, tmp_path):
    _, baseline = save_baseline(extraction_run, "lora", tmp_path / "b.json")
    assert baseline["items"][30] == {
        "item_id": "item-030",
        "item_hash": baseline["items"][30]["item_hash"],
        "gold": {"people": ["Person 30"], "amounts": ["$30"]},
        "parsed": {"people": ["Nobody"], "amounts": ["$30"]},
        "correct": False,
        "format_ok": True,
        "parse_ok": True,
        "field_counts": {"people": [0, 1, 1], "amounts": [1, 0, 0]},
    }
    assert set(baseline["metrics"]) == {
        "accuracy",
        "format_compliance",
        "field_f1_micro",
        "field_f1_macro",
        "parse_rate",
    }


def test_extraction_gate_defaults_catch_a_field_f1_drop_and_a_schema_drop_separately(tmp_path):
    good = extraction_outputs()["lora"][1]
    baseline, _ = save_baseline(extraction_gate_run(tmp_path / "base", good), "lora", tmp_path / "baselines" / "x.json")

    same = gate_run(extraction_gate_run(tmp_path / "same", good), baseline)
    assert [(c.rule, c.verdict, c.delta) for c in same.checks] == [
        ("allowed_drop.field_f1_micro", "pass", 0.0),
        ("allowed_drop.format_compliance", "pass", 0.0),
    ]
    assert same.exit_code == 0

    # Ten more records name the wrong person: micro F1 140/160 -> 120/160, still valid JSON.
    wrong = [
        json.dumps({"people": ["Nobody"], "amounts": [f"${i}"]}) if 20 <= i < 30 else out for i, out in enumerate(good)
    ]
    worse = gate_run(extraction_gate_run(tmp_path / "wrong", wrong), baseline)
    f1, schema = worse.checks
    assert (f1.verdict, f1.baseline, f1.run, f1.delta) == ("fail", 0.875, 0.75, pytest.approx(-0.125))
    assert f1.method == "paired permutation test, 4000 swaps" and f1.p_value == pytest.approx(2 / 4001)  # seeded swaps
    assert schema.verdict == "pass" and worse.exit_code == 1

    # Twelve records come back inside chatter: every field still right, but no longer schema-compliant.
    chatty = [f"Here you go: {out}" if i < 12 else out for i, out in enumerate(good)]
    sloppy = gate_run(extraction_gate_run(tmp_path / "chatty", chatty), baseline)
    f1, schema = sloppy.checks
    assert f1.verdict == "pass" and f1.delta == 0.0
    assert (schema.verdict, schema.delta, schema.p_value) == ("fail", pytest.approx(-0.3), pytest.approx(0.5**12))
    assert schema.method == "McNemar exact (12 discordant)" and sloppy.exit_code == 1
    text = Path(sloppy.files["markdown"]).read_text()
    assert "| allowed_drop.format_compliance | fail | 100.0% | 70.0% | -30.0 pts |" in text
    assert "Minimum detectable accuracy (whole-record exact match) drop" in text


def test_extraction_floor_on_parse_rate_and_a_rule_the_task_lacks(extraction_run, tmp_path):
    few = extraction_outputs()["few-shot"][1]  # half the records inside chatter: parse rate 50%
    baseline, _ = save_baseline(extraction_gate_run(tmp_path / "base", few), "lora", tmp_path / "b.json")
    outcome = gate_run(extraction_gate_run(tmp_path / "run", few, gate={"floors": {"parse_rate": 0.9}}), baseline)
    floor = next(c for c in outcome.checks if c.rule == "floors.parse_rate")
    assert (floor.verdict, floor.run, floor.baseline) == ("fail", 0.5, 0.5) and outcome.exit_code == 1
    from harness.core.errors import BenchError

    with pytest.raises(BenchError, match="rouge_l rule, but extraction tasks do not measure rouge_l") as err:
        gate_run(extraction_gate_run(tmp_path / "bad", few, gate={"allowed_drop": {"rouge_l": 0.0}}), baseline)
    assert "field_f1_micro" in err.value.hint


def test_gate_refuses_a_baseline_without_the_per_item_fields_it_needs(tmp_path):
    good = extraction_outputs()["lora"][1]
    baseline, _ = save_baseline(extraction_gate_run(tmp_path / "base", good), "lora", tmp_path / "b.json")
    data = json.loads(baseline.read_text())
    for row in data["items"]:
        del row["field_counts"]  # as a baseline saved before extraction was gated would be
    baseline.write_text(json.dumps(data))
    from harness.core.errors import BenchError

    with pytest.raises(BenchError, match="without 'field_counts', which field_f1_micro is computed from") as err:
        gate_run(extraction_gate_run(tmp_path / "run", good), baseline)
    assert "bench baseline save" in err.value.hint


def test_generation_gate_defaults_and_a_rouge_rule(tmp_path):
    good = generation_outputs()["lora"][1]  # 24 passes, 6 too long

    def run(name, outputs, gate=None):
        return write_synthetic(
            tmp_path / name,
            GENERATE,
            "generation",
            generation_items(),
            lora_only(outputs),
            task_config={"min_rouge_l": MIN_ROUGE_L},
            gate=gate,
        )

    baseline, _ = save_baseline(run("base", good), "lora", tmp_path / "b.json")
    same = gate_run(run("same", good), baseline)
    assert [(c.rule, c.verdict) for c in same.checks] == [
        ("allowed_drop.accuracy", "pass"),
        ("allowed_drop.format_compliance", "pass"),
    ]
    # Twelve passes turn into off-topic texts: still within every constraint, so only the pass rate drops.
    off_topic = [f"Ask the pharmacist about {i}." if i < 12 else out for i, out in enumerate(good)]
    worse = gate_run(
        run("worse", off_topic, gate={"allowed_drop": {"accuracy": 0.0, "format_compliance": 0.0, "rouge_l": 0.05}}),
        baseline,
    )
    accuracy, compliance, rouge = worse.checks
    assert (accuracy.verdict, accuracy.delta, accuracy.p_value) == ("fail", pytest.approx(-0.4), pytest.approx(0.5**12))
    assert compliance.verdict == "pass"
    # ROUGE-L 1.0 -> 2/12 on those twelve items: the mean falls by 12 * (1 - 1/6) / 30 = 0.333
    assert rouge.verdict == "fail" and rouge.delta == pytest.approx(-1 / 3)
    assert rouge.method.startswith("paired bootstrap, margin 0.05") and worse.exit_code == 1


# ----------------------------------------------------------------------------- tiny-model runs, end to end
# conftest's tiny suite (data, model, training, inference and its three variants) with another task section.
TASK_START, TASK_END = TINY_SUITE.index("task:\n") + len("task:\n"), TINY_SUITE.index("  data:\n")
TINY_EXTRACTION = (
    TINY_SUITE[:TASK_START]
    + """\
  type: extraction
  system_prompt: "Reply with one JSON object with the keys people and amounts."
  json_schema:
    type: object
    properties:
      people: {{type: array, items: {{type: string}}}}
      amounts: {{type: array, items: {{type: string}}}}
    required: [people, amounts]
    additionalProperties: false
"""
    + TINY_SUITE[TASK_END:]
)
TINY_GENERATION = (
    TINY_SUITE[:TASK_START]
    + """\
  type: generation
  system_prompt: "Rewrite the note in plain words."
  constraints:
    max_words: 20
    keep_numbers: true
    forbidden_phrases: [PO]
  min_rouge_l: 0.3
"""
    + TINY_SUITE[TASK_END:]
)
NAMES = ["Ann Lee", "Bo Chen", "Cy Diaz", "Di Moss"]


def tiny_rows(task_type: str, prefix: str, count: int, start: int) -> list[dict]:
    rows = []
    for i in range(start, start + count):
        if task_type == "extraction":
            text = f"{NAMES[i % 4]} paid ${i * 3} on day {i}."
            answer = json.dumps({"people": [NAMES[i % 4]], "amounts": [f"${i * 3}"]})
        else:
            text = f"Take {i} mg PO twice daily."
            answer = f"Take {i} mg by mouth two times a day."
        rows.append(
            {
                "id": f"{prefix}-{i}",
                "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": answer}],
            }
        )
    return rows


def tiny_run(tmp_path_factory, tiny_model_dir, task_type: str, template: str) -> Path:
    from harness.run.recipe import run_suite

    root = tmp_path_factory.mktemp(f"tiny-{task_type}")
    for split, count, start in (("train", 12, 0), ("validation", 6, 100), ("test", 12, 200)):
        write_jsonl(root / "data" / f"{split}.jsonl", tiny_rows(task_type, split, count, start))
    suite = root / f"{task_type}.yaml"
    # Two sampled outputs per item too: the variability check parses them with the task's own parse.
    suite.write_text(
        template.format(model=tiny_model_dir).replace("inference:\n", "inference:\n  variability: {samples: 2}\n")
    )
    run_dir = run_suite(suite, root / "run").run_dir
    write_report(run_dir)  # as `bench run` does after the run
    return run_dir


@pytest.fixture(scope="module")
def tiny_extraction(tmp_path_factory, tiny_model_dir) -> Path:
    return tiny_run(tmp_path_factory, tiny_model_dir, "extraction", TINY_EXTRACTION)


@pytest.fixture(scope="module")
def tiny_generation(tmp_path_factory, tiny_model_dir) -> Path:
    return tiny_run(tmp_path_factory, tiny_model_dir, "generation", TINY_GENERATION)


def check_tiny_run(run_dir: Path, metrics: tuple[str, ...], headers: tuple[str, ...], section: str) -> None:
    results = json.loads((run_dir / "results.json").read_text())
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "complete"
    for name in ("zero-shot", "few-shot", "lora"):
        record = results["variants"][name]
        assert record["status"] == "ok", record.get("reason")
        assert 0 < record["variability"]["distinct_label_share"] <= 1, name
        for metric in metrics:
            m = record["metrics"][metric]
            assert m["ci_low"] - 1e-12 <= m["value"] <= m["ci_high"], (name, metric)  # Wilson's low end at 0 is ~1e-17
    html = (run_dir / "report.html").read_text()
    page, text = Page(html), text_of(html)
    assert section in page.ids and "confusion" not in page.ids
    assert sorted(page.rows_of("variant-table")) == ["few-shot", "lora", "zero-shot"]
    for header in headers:
        assert header in text, header
    assert_self_contained(html)
    assert "**Recommendation (" in (run_dir / "summary.md").read_text()


def gate_against_itself_then_a_planted_regression(run_dir: Path, tmp_path: Path, perfect) -> None:
    """`bench baseline save` + `bench gate` pass on the run itself; a baseline made perfect turns it into a regression."""
    from harness.cli.main import main

    baseline = tmp_path / "baselines" / "tiny.json"
    assert main(["baseline", "save", str(run_dir), "--variant", "lora", "--out", str(baseline)]) == 0
    assert main(["gate", str(run_dir), "--baseline", str(baseline)]) == 0
    outcome = json.loads((run_dir / "gate" / "outcome.json").read_text())
    assert {c["verdict"] for c in outcome["checks"]} == {"pass"}

    # The tiny random model gets nothing right or well-formed; a baseline that got all 12 items right and
    # well-formed is 12 discordant items better on every default rule: exact McNemar p = 0.5^12 < 0.01.
    assert not any(row["correct"] or row["format_ok"] for row in read_jsonl(run_dir / "samples.jsonl"))
    better = json.loads(baseline.read_text())
    for row in better["items"]:
        row.update(correct=True, format_ok=True, parsed=row["gold"], **perfect(row))
    better_path = tmp_path / "baselines" / "better.json"
    better_path.write_text(json.dumps(better))
    assert main(["gate", str(run_dir), "--baseline", str(better_path)]) == 1
    outcome = json.loads((run_dir / "gate" / "outcome.json").read_text())
    assert [c["verdict"] for c in outcome["checks"]] == ["fail", "fail"]


def test_tiny_extraction_run_reports_and_gates(tiny_extraction, tmp_path):
    check_tiny_run(
        tiny_extraction,
        ("accuracy", "parse_rate", "format_compliance", "field_f1_micro", "field_f1_macro"),
        (
            "field F1 (micro) [95% CI]",
            "record exact match [95% CI]",
            "JSON parse rate",
            "schema compliance",
            "Per field",
            "no JSON object",
        ),
        "fields",
    )
    rows = read_jsonl(tiny_extraction / "samples.jsonl")
    assert len(rows) == 36 and all(set(r["field_counts"]) == {"people", "amounts"} for r in rows)

    def perfect(row):
        return {"parse_ok": True, "field_counts": {f: [len(v), 0, 0] for f, v in row["gold"].items()}}

    gate_against_itself_then_a_planted_regression(tiny_extraction, tmp_path, perfect)
    outcome = json.loads((tiny_extraction / "gate" / "outcome.json").read_text())
    assert [c["rule"] for c in outcome["checks"]] == ["allowed_drop.field_f1_micro", "allowed_drop.format_compliance"]


def test_tiny_generation_run_reports_and_gates(tiny_generation, tmp_path):
    check_tiny_run(
        tiny_generation,
        ("accuracy", "format_compliance", "rouge_l", "chrf"),
        (
            "pass rate [95% CI]",
            "ROUGE-L [95% CI]",
            "chrF [95% CI]",
            "constraint compliance",
            "keep_numbers",
            "ROUGE-L change [95% CI]",
        ),
        "constraints",
    )

    def perfect(row):
        return {"rouge_l": 1.0, "chrf": 1.0}

    gate_against_itself_then_a_planted_regression(tiny_generation, tmp_path, perfect)
    outcome = json.loads((tiny_generation / "gate" / "outcome.json").read_text())
    assert [c["rule"] for c in outcome["checks"]] == ["allowed_drop.accuracy", "allowed_drop.format_compliance"]


def test_comparing_two_extraction_runs_pairs_on_field_f1(extraction_run, tmp_path):
    from harness.report import write_comparison

    before, after = fresh(extraction_run, tmp_path / "a"), fresh(extraction_run, tmp_path / "b")
    html = write_comparison(before, after).read_text()
    text = text_of(html)
    assert "field F1 (micro) A" in text and "record exact match B" in text and "schema compliance A" in text
    assert 'id="fig-compare"' in html
    assert_self_contained(html)
    md = (after / "compare-run.md").read_text()
    assert "| variant | field F1 (micro) A | field F1 (micro) B | change [paired 95% CI] | fixed / broke |" in md
    assert "| `lora` | 0.875 [" in md and "+0.000 [+0.000, +0.000] inconclusive | +0 / −0 |" in md
