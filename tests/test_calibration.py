"""Calibration and abstention: the statistics on hand-built inputs, the confidences the tiny model gives, and a
tiny run with ``abstain:`` through to the report's section."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from conftest import TINY_SUITE, make_items, write_jsonl

from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl
from harness.model.generate import encode_prompts, generate
from harness.model.rank import label_probabilities, rank_choices
from harness.stats import calibration as cal

# ----------------------------------------------------------------------------- the statistics, by hand


def test_ece_on_two_equal_mass_bins_is_the_weighted_gap():
    # Ten items at 0.2 of which 3 are right (gap 0.1), ten at 0.8 of which 8 are right (gap 0): 0.5 * 0.1.
    confidence = [0.2] * 10 + [0.8] * 10
    correct = [1, 1, 1] + [0] * 7 + [1] * 8 + [0] * 2
    assert cal.expected_calibration_error(confidence, correct, bins=2) == pytest.approx(0.05)


def test_ece_is_zero_when_calibrated_and_one_minus_confidence_when_always_right():
    # 10 equal-mass bins of 20 items at 0.05, 0.15, ... 0.95, each bin right exactly that often.
    levels = [0.05 + 0.1 * i for i in range(10)]
    confidence = [c for c in levels for _ in range(20)]
    correct = [j < round(c * 20) for c in levels for j in range(20)]
    assert cal.expected_calibration_error(confidence, correct) == pytest.approx(0.0, abs=1e-12)
    assert cal.expected_calibration_error(confidence, [True] * 200) == pytest.approx(0.5)


def test_brier_is_the_mean_squared_gap_of_the_chosen_answer():
    assert cal.brier_score([1.0, 0.5, 0.0], [True, True, False]) == pytest.approx(0.25 / 3)


def test_selective_accuracy_and_aurc_rank_items_by_confidence():
    confidence, correct = [0.6, 0.9, 0.7, 0.8], [0, 1, 0, 1]  # order does not matter: ranked by confidence
    assert cal.selective_accuracy(confidence, correct, 0.5) == 1.0
    assert cal.selective_accuracy(confidence, correct, 0.75) == pytest.approx(2 / 3)
    assert cal.selective_accuracy(confidence, correct, 1.0) == 0.5
    assert cal.aurc(confidence, correct) == pytest.approx(1 - (1 + 1 + 2 / 3 + 1 / 2) / 4)


def test_calibration_metrics_carry_intervals_around_their_values():
    rng = np.random.default_rng(3)
    confidence = rng.uniform(0.3, 1.0, 120)
    correct = rng.uniform(size=120) < confidence  # calibrated by construction
    metrics = cal.calibration_metrics(confidence, correct, seed=1)
    assert metrics["binning"] == "10 equal-mass bins by confidence"
    assert metrics["ece"]["value"] == pytest.approx(cal.expected_calibration_error(confidence, correct))
    assert metrics["brier"]["value"] == pytest.approx(cal.brier_score(confidence, correct))
    for key in ("ece", "brier", "aurc"):
        assert metrics[key]["ci_low"] <= metrics[key]["value"] <= metrics[key]["ci_high"], key
    assert set(metrics["selective_accuracy"]) == {"0.5", "0.8", "0.9"}
    at_80 = metrics["selective_accuracy"]["0.8"]
    assert at_80["value"] == pytest.approx(cal.selective_accuracy(confidence, correct, 0.8))
    assert at_80["ci_low"] < at_80["value"] < at_80["ci_high"]
    assert sum(b["n"] for b in metrics["reliability"]) == 120 and len(metrics["reliability"]) == 10
    assert metrics == cal.calibration_metrics(confidence, correct, seed=1)  # seeded: the same figures again


def test_threshold_is_the_lowest_that_reaches_the_target_on_validation():
    confidence, correct = [0.9, 0.8, 0.7, 0.6], [1, 1, 0, 1]  # accuracy above each: 1, 1, 2/3, 3/4
    assert cal.choose_threshold(confidence, correct, 0.75) == 0.6
    assert cal.choose_threshold(confidence, correct, 0.9) == 0.8
    # Tied confidences are answered together: at 0.9 half are right, so 1.0 is out of reach.
    assert cal.choose_threshold([0.9, 0.9, 0.5], [1, 0, 1], 1.0) is None


def test_abstention_applies_the_validation_threshold_to_test():
    result = cal.abstention([0.9, 0.8, 0.7], [1, 1, 0], [0.95, 0.85, 0.7, 0.5], [1, 1, 1, 0], target=1.0)
    assert result["threshold"] == 0.8
    assert result["coverage"]["value"] == 0.5 and result["accuracy"]["value"] == 1.0
    assert result["held"] is True and result["shortfall"] == 0.0
    missed = cal.abstention([0.9, 0.8], [1, 1], [0.95, 0.85], [1, 0], target=0.9)
    assert missed["held"] is False and missed["shortfall"] == pytest.approx(0.4)
    nothing = cal.abstention([0.9], [0], [0.95], [1], target=0.9)
    assert nothing["threshold"] is None and nothing["coverage"]["value"] == 0.0 and nothing["held"] is None


def test_confidences_outside_zero_to_one_are_refused():
    with pytest.raises(ValueError, match="probabilities"):
        cal.brier_score([1.2], [True])


# ----------------------------------------------------------------------------- confidences from the tiny model


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval(), AutoTokenizer.from_pretrained(tiny_model_dir)


CONVERSATIONS = [
    [{"role": "system", "content": "Classify the note."}, {"role": "user", "content": f"Note {i}: apples " * (i + 1)}]
    for i in range(5)
]


def test_rank_confidence_is_the_chosen_labels_softmax_share(tiny):
    model, tokenizer = tiny
    choices = ["kind: alpha", "kind: beta", "kind: gamma"]
    for ranking in rank_choices(model, tokenizer, CONVERSATIONS, choices, batch_size=2):
        probabilities = ranking.probabilities
        assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-9)
        assert all(0 <= p <= 1 for p in probabilities)
        assert ranking.confidence == max(probabilities) == probabilities[ranking.choice]
        # the softmax preserves the likelihoods' ratios: p_i / p_j = exp(ll_i - ll_j)
        ll = ranking.loglikelihoods
        assert probabilities[0] / probabilities[1] == pytest.approx(math.exp(ll[0] - ll[1]), rel=1e-6)
    assert label_probabilities([0.0, 0.0]) == (0.5, 0.5)
    assert label_probabilities([-1000.0, 0.0])[1] == pytest.approx(1.0)  # stable far from zero


@torch.inference_mode()
def greedy_probability(model, tokenizer, conversation, max_new_tokens) -> tuple[list[int], float]:
    """Greedy decoding by full forward passes, no cache: the tokens and their summed log-probability."""
    ids = encode_prompts(tokenizer, [conversation])[0]
    tokens, total = [], 0.0
    for _ in range(max_new_tokens):
        logprobs = model(torch.tensor([ids + tokens])).logits[0, -1].float().log_softmax(-1)
        token = int(logprobs.argmax())
        tokens.append(token)
        total += float(logprobs[token])
        if token == tokenizer.eos_token_id:
            break
    return tokens, total


def test_generate_confidence_is_the_probability_of_the_generated_tokens(tiny):
    model, tokenizer = tiny
    generations = generate(model, tokenizer, CONVERSATIONS, batch_size=3, max_new_tokens=5, with_confidence=True)
    assert all(
        g.confidence is None for g in generate(model, tokenizer, CONVERSATIONS[:1], batch_size=1, max_new_tokens=2)
    )
    for conversation, generation in zip(CONVERSATIONS, generations):
        tokens, logprob = greedy_probability(model, tokenizer, conversation, 5)
        if tokenizer.eos_token_id in tokens:
            tokens = tokens[: tokens.index(tokenizer.eos_token_id)]
        assert generation.text == tokenizer.decode(tokens, skip_special_tokens=True)
        assert 0 <= generation.confidence <= 1
        assert generation.confidence == pytest.approx(math.exp(logprob), rel=1e-3, abs=1e-12)


# ----------------------------------------------------------------------------- a tiny run with abstain:

VARIANTS = """\
variants:
  - name: zero-shot
    kind: zero_shot
  - name: zero-rank
    kind: zero_shot
    inference:
      mode: rank
  - name: tfidf
    kind: tfidf
abstain:
  target_accuracy: 0.5
"""


class Tables(HTMLParser):
    """The text of every cell, per table id, and every element id."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.cells: dict[str, list[list[str]]] = {}
        self._table = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "table":
            self._table = attributes.get("id")
            self.cells[self._table] = []
        elif tag == "tr" and self._table:
            self.cells[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def abstain_run(tiny_model_dir, tmp_path_factory):
    from harness.run.recipe import run_suite

    root = tmp_path_factory.mktemp("abstain")
    write_jsonl(root / "data" / "train.jsonl", make_items("train", 12))
    write_jsonl(root / "data" / "validation.jsonl", make_items("val", 6, start=100))
    write_jsonl(root / "data" / "test.jsonl", make_items("test", 9, start=200))
    text = TINY_SUITE.format(model=tiny_model_dir)
    suite = root / "tiny.yaml"
    suite.write_text(text[: text.index("variants:\n")] + VARIANTS)
    return run_suite(suite, root / "run", store_dir=root / "store").run_dir


def test_a_run_with_abstain_records_calibration_and_a_validation_threshold(abstain_run):
    results = read_json(abstain_run / "results.json")
    rows = read_jsonl(abstain_run / "samples.jsonl")
    assert rows and all(0 <= r["confidence"] <= 1 for r in rows)
    for name, source in (
        ("zero-shot", "probability of the generated answer tokens"),
        ("zero-rank", "softmax over the labels' log-likelihoods"),
        ("tfidf", "the classifier's probability of its label"),
    ):
        metrics = results["variants"][name]["metrics"]
        calibration, abstention = metrics["calibration"], metrics["abstention"]
        assert calibration["confidence_of"] == source and calibration["n"] == 9
        assert calibration["ece"]["ci_low"] <= calibration["ece"]["value"] <= calibration["ece"]["ci_high"]
        assert abstention["chosen_on"] == "validation" and abstention["validation"]["n"] == 6
        # the threshold comes from validation: recompute it from the validation answers' own reading
        threshold = abstention["threshold"]
        answered = [r for r in rows if r["variant"] == name and threshold is not None and r["confidence"] >= threshold]
        assert abstention["coverage"]["value"] == pytest.approx(len(answered) / 9)
        if answered:
            assert abstention["accuracy"]["value"] == pytest.approx(sum(r["correct"] for r in answered) / len(answered))
            assert abstention["held"] == (abstention["accuracy"]["value"] >= 0.5)
    # TF-IDF gets every tiny test item right (tests/test_classical_variants.py), so any threshold holds.
    assert results["variants"]["tfidf"]["metrics"]["abstention"]["held"] is True


def test_the_report_has_a_calibration_section_with_every_variant(abstain_run):
    from harness.report import write_report

    page = Tables(write_report(abstain_run).read_text(encoding="utf-8"))
    assert {"calibration", "calibration-table", "abstention-table"} <= page.ids
    table = page.cells["calibration-table"]
    assert len(table) == 4  # the header and three variants
    assert "ECE [95% CI]" in table[0] and "selective accuracy at 80% coverage" in table[0]
    for name in ("zero-shot", "zero-rank", "tfidf"):
        (row,) = [row for row in table[1:] if name in row[0]]
        assert "no confidence" not in row and len(row) == 8  # variant, accuracy, ECE, Brier, three coverages, AURC
    abstention = page.cells["abstention-table"]
    assert any(cell == "held" for row in abstention[1:] for cell in row)


def test_abstain_on_a_generation_task_is_refused_at_its_line(tmp_path):
    from harness.suite.load import load_suite
    from harness.variants.base import variant_configs

    write_jsonl(tmp_path / "d.jsonl", make_items("x", 3))
    suite = tmp_path / "gen.yaml"
    suite.write_text(
        "schema_version: 1\nname: gen\ntask:\n  type: generation\n  data:\n    train: d.jsonl\n    test: d.jsonl\n"
        "base_model:\n  name: smollm2-135m-instruct\nvariants:\n  - name: z\n    kind: zero_shot\n"
        "abstain:\n  target_accuracy: 0.9\n"
    )
    with pytest.raises(BenchError) as caught:
        load_suite(suite, variant_configs())
    message = str(caught.value) + " ".join(str(p) for p in getattr(caught.value, "problems", []))
    assert "abstain" in message and "classification" in message


def test_abstain_without_a_validation_split_stops_the_run_with_exit_code_2(tiny_model_dir, tmp_path, capsys):
    from harness.cli.main import main

    write_jsonl(tmp_path / "data" / "train.jsonl", make_items("train", 12))
    write_jsonl(tmp_path / "data" / "test.jsonl", make_items("test", 9, start=200))
    text = TINY_SUITE.format(model=tiny_model_dir).replace("    validation: data/validation.jsonl\n", "")
    suite = tmp_path / "tiny.yaml"
    suite.write_text(text[: text.index("variants:\n")] + VARIANTS)
    assert main(["run", str(suite), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "abstain" in err and "validation" in err
    assert re.search(r"tiny\.yaml:\d+", err), err  # the file and the line of abstain:


def test_the_report_compares_calibration_in_words_against_the_recommended_variant():
    from types import SimpleNamespace

    from harness.report.calibration import CalibrationRow, findings

    def row(name, accuracy, ece, low, high):
        variant = SimpleNamespace(name=name, metric=lambda key: {"value": accuracy} if key == "accuracy" else {})
        return CalibrationRow(variant, {"ece": {"value": ece, "ci_low": low, "ci_high": high}}, None)

    lora, tfidf, few = (
        row("lora", 0.92, 0.18, 0.14, 0.22),
        row("tfidf", 0.80, 0.05, 0.03, 0.07),
        row("few", 0.80, 0.06, 0.02, 0.15),
    )
    assert findings([lora, tfidf, few], anchor="tfidf") == [
        "lora is 12 points more accurate than tfidf and worse calibrated: ECE 0.18 vs 0.05.",
        "few is as accurate as tfidf (to the point) and about as well calibrated (the ECE intervals overlap): "
        "ECE 0.06 vs 0.05.",
    ]
    # Without a recommendation the most accurate variant is the anchor, and "better" needs separated intervals.
    assert findings([lora, tfidf]) == [
        "tfidf is 12 points less accurate than lora and better calibrated: ECE 0.05 vs 0.18."
    ]
