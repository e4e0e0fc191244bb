"""Extraction and generation scoring, with exact expected values."""

from __future__ import annotations

import json

import pytest

from harness.data.chat import Item, content_hash
from harness.tasks.extraction import ExtractionTaskRules
from harness.tasks.generation import Constraints, GenerationTaskRules

SCHEMA = {
    "type": "object",
    "properties": {
        "people": {"type": "array", "items": {"type": "string"}},
        "amounts": {"type": "array", "items": {"type": "string"}},
        "date": {"type": ["string", "null"]},
    },
    "required": ["people", "amounts", "date"],
    "additionalProperties": False,
}
EXTRACT = ExtractionTaskRules(schema=SCHEMA)
GOLD = {"people": ["Ana Ruiz", "Tom Lee"], "amounts": ["$4,500"], "date": "1 May 2024"}


def item(answer: str, user: str = "text") -> Item:
    prompt = ({"role": "user", "content": user},)
    return Item(
        id="x", prompt=prompt, answer=answer, label=None, source="f:1", content_hash=content_hash(list(prompt), answer)
    )


GOLD_ITEM = item(json.dumps(GOLD))


def test_exact_json_is_correct_and_well_formed():
    row = EXTRACT.score(json.dumps(GOLD), GOLD_ITEM)
    assert (row["correct"], row["format_ok"], row["parse_ok"], row["wrong_fields"]) == (True, True, True, [])


def test_normalisation_ignores_case_and_whitespace_and_list_order():
    out = json.dumps({"people": ["tom  lee", "ANA RUIZ"], "amounts": ["$4,500"], "date": "1 may 2024"})
    assert EXTRACT.score(out, GOLD_ITEM)["correct"] is True


def test_malformed_json_is_neither_parsed_nor_compliant():
    row = EXTRACT.score('{"people": ["Ana Ruiz"], "amounts": [', GOLD_ITEM)
    assert (row["parsed"], row["parse_ok"], row["format_ok"], row["correct"]) == (None, False, False, False)
    assert row["field_counts"] == {"people": [0, 0, 2], "amounts": [0, 0, 1], "date": [0, 0, 1]}


def test_json_inside_chatter_is_read_for_content_but_not_format():
    out = "Sure! " + json.dumps(GOLD) + " Hope this helps."
    row = EXTRACT.score(out, GOLD_ITEM)
    assert (row["correct"], row["parse_ok"], row["format_ok"]) == (True, False, False)


def test_extra_field_and_wrong_type_break_the_schema_not_the_content():
    extra = EXTRACT.score(json.dumps({**GOLD, "notes": "x"}), GOLD_ITEM)
    assert (extra["parse_ok"], extra["format_ok"], extra["correct"]) == (True, False, True)
    wrong_type = EXTRACT.score(json.dumps({**GOLD, "amounts": "$4,500"}), GOLD_ITEM)
    assert (wrong_type["format_ok"], wrong_type["correct"]) == (False, True)  # the value is still right


def test_missing_and_extra_values_count_per_field():
    out = json.dumps({"people": ["Ana Ruiz", "Bob"], "amounts": [], "date": "1 May 2024"})
    row = EXTRACT.score(out, GOLD_ITEM)
    assert row["field_counts"] == {"people": [1, 1, 1], "amounts": [0, 0, 1], "date": [1, 0, 0]}
    assert row["wrong_fields"] == ["amounts", "people"] and row["correct"] is False


def test_extraction_aggregate_exact():
    rows = [
        EXTRACT.score(json.dumps(GOLD), GOLD_ITEM),
        EXTRACT.score(json.dumps({"people": ["Ana Ruiz", "Bob"], "amounts": [], "date": "1 May 2024"}), GOLD_ITEM),
        EXTRACT.score("not json", GOLD_ITEM),
    ]
    m = EXTRACT.aggregate(rows, seed=0)
    assert m["accuracy"]["value"] == pytest.approx(1 / 3)
    assert m["parse_rate"]["value"] == pytest.approx(2 / 3)
    # people: tp 3, fp 1, fn 3 -> 6/10; amounts: tp 1, fn 2 -> 2/4; date: tp 2, fn 1 -> 4/5
    assert m["per_field"]["people"]["f1"] == pytest.approx(0.6)
    assert m["per_field"]["amounts"]["f1"] == pytest.approx(0.5)
    assert m["per_field"]["date"]["f1"] == pytest.approx(0.8)
    assert m["field_f1_macro"]["value"] == pytest.approx((0.6 + 0.5 + 0.8) / 3)
    assert m["field_f1_micro"]["value"] == pytest.approx(2 * 6 / (2 * 6 + 1 + 6))


def test_gold_answers_are_checked_against_the_schema():
    assert EXTRACT.check_gold(json.dumps(GOLD)) is None
    assert "not valid JSON" in EXTRACT.check_gold("{oops")
    assert "does not fit the schema at people" in EXTRACT.check_gold(json.dumps({**GOLD, "people": "Ana"}))


GEN = GenerationTaskRules(
    constraints=Constraints(
        max_words=8, forbidden_phrases=("PO", "q6h"), required_phrases=("fever",), keep_numbers=True
    ),
    min_rouge_l=0.5,
)
SOURCE = "Take 500 mg PO q6h PRN for pyrexia."
REFERENCE = "Take 500 mg by mouth every 6 hours for fever."
GEN_ITEM = item(REFERENCE, user=SOURCE)


def test_generation_constraints_each_reported():
    row = GEN.score("Take 500 mg PO every 6 hours if you have a fever.", GEN_ITEM)
    # "500" and the 6 of "q6h" are both kept; "PO" is jargon; 11 words is over 8.
    assert row["constraints"] == {
        "max_words": False,
        "required_phrases": True,
        "forbidden_phrases": False,
        "keep_numbers": True,
        "non_empty": True,
    }
    assert row["format_ok"] is False and row["correct"] is False


def test_forbidden_phrases_match_whole_words_only():
    checks = Constraints(forbidden_phrases=("PO",)).check("A POSSIBLE risk", "")
    assert checks["forbidden_phrases"] is True


def test_generation_scores_exact_for_the_reference_itself():
    row = GEN.score(REFERENCE.replace(" every 6 hours", ""), GEN_ITEM)  # 7 words, misses "6"
    assert row["constraints"]["keep_numbers"] is False
    perfect = GenerationTaskRules(constraints=Constraints(), min_rouge_l=0.5).score(REFERENCE, GEN_ITEM)
    assert perfect["rouge_l"] == pytest.approx(1.0) and perfect["chrf"] == pytest.approx(1.0)
    assert perfect["correct"] is True


def test_empty_output_fails_everything():
    row = GEN.score("   ", GEN_ITEM)
    assert (row["rouge_l"], row["chrf"], row["format_ok"], row["words"]) == (0.0, 0.0, False, 0)


def test_generation_aggregate():
    rows = [
        GenerationTaskRules(constraints=Constraints(), min_rouge_l=0.5).score(out, GEN_ITEM)
        for out in (REFERENCE, "", "Take 500 mg by mouth every 6 hours.")
    ]
    m = GenerationTaskRules(constraints=Constraints()).aggregate(rows, seed=0)
    assert m["accuracy"]["value"] == pytest.approx(2 / 3)
    assert m["format_compliance"]["value"] == pytest.approx(2 / 3)  # the empty output
    assert m["per_constraint"]["non_empty"]["value"] == pytest.approx(2 / 3)
    assert m["rouge_l"]["value"] == pytest.approx((1.0 + 0.0 + rows[2]["rouge_l"]) / 3)


# ----------------------------------------------------------------------------- parse: every task type, and variability
def test_extraction_parse_reads_the_record_as_the_task_compares_it():
    same = EXTRACT.parse(json.dumps(GOLD))
    assert same.format_ok and same == EXTRACT.parse(
        json.dumps({"date": "1 MAY 2024", "amounts": ["$4,500"], "people": ["tom lee", "Ana  Ruiz"]})
    )
    chatty = EXTRACT.parse("Sure! " + json.dumps(GOLD))
    assert chatty.answer == same.answer and not chatty.format_ok  # same record, not well-formed
    assert EXTRACT.parse("no record here").answer is None


def test_generation_parse_is_the_text_and_its_source_free_constraints():
    assert GEN.parse("  Take 500 mg by mouth for fever. ") == GEN.parse("Take 500 mg by mouth for fever.")
    assert GEN.parse("Take 500 mg by mouth for fever.").format_ok is True
    assert GEN.parse("Take 500 mg PO for fever.").format_ok is False  # a forbidden phrase, whatever the input


class _Fakes:
    """Just enough of a variant and the run's settings for measure_variability: fixed sampled texts."""

    def __init__(self, task, texts):
        from contextlib import nullcontext
        from types import SimpleNamespace

        self.activated = lambda: nullcontext("model")
        self.env = SimpleNamespace(task=task)
        self.inference_spec = lambda: None
        self.predictor = lambda model, inference=None: SimpleNamespace(sample=lambda conversations, **_: texts)


@pytest.mark.parametrize(
    "task, texts, label_share",
    [
        # two wordings of one record, then two different records
        (
            EXTRACT,
            [
                [json.dumps(GOLD), " " + json.dumps({**GOLD, "people": ["TOM LEE", "Ana Ruiz"]})],
                [json.dumps(GOLD), json.dumps({**GOLD, "date": None})],
            ],
            0.75,
        ),
        # the same text twice (trimmed), then two texts
        (GEN, [["Take it.", "Take it. "], ["Take it.", "Leave it."]], 0.75),
    ],
)
def test_variability_parses_every_task_types_samples(task, texts, label_share):
    from harness.run.variability import measure_variability

    fakes = _Fakes(task, texts)
    result = measure_variability(fakes, fakes, [[], []], samples=2, temperature=0.7, seed=0)
    assert (result["distinct_output_share"], result["distinct_label_share"]) == (1.0, label_share)
    assert result["consistent_label_items"] == 0.5
