"""The suite loader: strict schema, every error at once with file:line, grids, shipped suites."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import BenchError
from harness.suite import load_suite
from harness.variants.base import variant_configs

REPO = Path(__file__).resolve().parents[1]

MINIMAL = """\
name: s
task:
  type: classification
  labels: [a, b]
  data: {test: t.jsonl}
base_model: {name: smollm2-135m-instruct}
variants:
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(BenchError) as info:
        load_suite(write(tmp_path, text), variant_configs())
    return [str(p) for p in info.value.problems]


def test_minimal_suite_loads_with_defaults(tmp_path):
    suite = load_suite(write(tmp_path, MINIMAL + "  - {name: z, kind: zero_shot}\n"), variant_configs())
    assert suite.spec.training.epochs == 1.0
    assert [v.name for v in suite.spec.variants] == ["z"]
    assert len(suite.sha256) == 64


def test_every_problem_is_reported_at_once_with_line_and_did_you_mean(tmp_path):
    text = MINIMAL.replace("  labels:", "  answer_fromat: '{label}'\n  labels:") + (
        "  - {name: z, kind: zero_shott}\n  - name: l\n    kind: lora\n    rr: 4\ntrainig: {epochs: 1}\n"
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 4
    joined = "\n".join(problems)
    assert "suite.yaml:4: task.answer_fromat: unknown key 'answer_fromat'; did you mean 'answer_format'?" in joined
    assert "suite.yaml:9: variants[0].kind: unknown variant kind 'zero_shott'; did you mean 'zero_shot'?" in joined
    assert "suite.yaml:12: variants[1].rr: unknown key 'rr'; did you mean 'r'?" in joined
    assert "suite.yaml:13: trainig: unknown key 'trainig'; did you mean 'training'?" in joined


def test_gate_rules_are_checked_against_the_task_type(tmp_path):
    extraction = MINIMAL.replace(
        "  type: classification\n  labels: [a, b]\n",
        "  type: extraction\n  json_schema: {type: object, properties: {who: {type: string}}}\n",
    )
    gate = "gate:\n  allowed_drop:\n    field_f1_micro: 0.0\n    rouge_l: 0.05\n    rougel: 0.05\n"
    problems = [
        p.removeprefix(f"{tmp_path}/")
        for p in problems_of(tmp_path, extraction + "  - {name: z, kind: zero_shot}\n" + gate)
    ]
    assert problems == [
        "suite.yaml:12: gate.allowed_drop.rouge_l: extraction tasks do not measure rouge_l (metrics of extraction tasks: "
        "accuracy, field_f1_micro, field_f1_macro, parse_rate, format_compliance)",
        # a name no task type measures stays the schema's unknown key
        "suite.yaml:13: gate.allowed_drop.rougel: unknown key 'rougel'; did you mean 'rouge_l'? (allowed: accuracy, chrf, "
        "field_f1_macro, field_f1_micro, format_compliance, judge_parse_rate, judge_score, macro_f1, parse_rate, "
        "rouge_l)",
    ]
    assert load_suite(
        write(tmp_path, extraction + "  - {name: z, kind: zero_shot}\ngate: {floors: {parse_rate: 0.9}}\n"),
        variant_configs(),
    )


def test_wrong_types_name_the_field_and_the_value(tmp_path):
    problems = problems_of(tmp_path, MINIMAL + "  - {name: l, kind: lora, r: many}\ntraining: {batch_size: 0}\n")
    assert any("variants[0].r" in p and "'many'" in p for p in problems)
    assert any("training.batch_size" in p and "greater than or equal to 1" in p for p in problems)


def test_malformed_yaml_reports_the_line(tmp_path):
    problems = problems_of(tmp_path, "name: s\ntask: [unclosed\nvariants: []\n")
    assert len(problems) == 1 and "suite.yaml:3" in problems[0]


def test_yaml_tags_that_build_objects_are_refused(tmp_path):
    problems = problems_of(tmp_path, "name: !!python/object/apply:os.system ['echo hi']\n")
    assert "suite.yaml:1" in problems[0]


def test_answer_format_must_hold_the_label_placeholder(tmp_path):
    problems = problems_of(
        tmp_path,
        MINIMAL.replace("  labels:", "  answer_format: 'type: x'\n  labels:") + "  - {name: z, kind: zero_shot}\n",
    )
    assert any("task.answer_format" in p and "'{label}'" in p for p in problems)


def test_grid_expands_to_predictable_names(tmp_path):
    suite = load_suite(
        write(tmp_path, MINIMAL + "  - name: lora\n    kind: lora\n    grid: {r: [4, 16, 64]}\n"), variant_configs()
    )
    assert [(v.name, v.r) for v in suite.spec.variants] == [("lora-r4", 4), ("lora-r16", 16), ("lora-r64", 64)]


def test_grid_cross_product_and_dotted_keys(tmp_path):
    suite = load_suite(
        write(
            tmp_path,
            MINIMAL + "  - name: l\n    kind: lora\n    grid: {r: [4, 8], training.learning_rate: [0.1, 0.2]}\n",
        ),
        variant_configs(),
    )
    names = [v.name for v in suite.spec.variants]
    assert names == ["l-r4-learning_rate0.1", "l-r4-learning_rate0.2", "l-r8-learning_rate0.1", "l-r8-learning_rate0.2"]
    assert suite.spec.variants[1].training.learning_rate == 0.2


def test_duplicate_variant_names_are_refused(tmp_path):
    problems = problems_of(tmp_path, MINIMAL + "  - {name: z, kind: zero_shot}\n  - {name: z, kind: few_shot}\n")
    assert any("'z' is used twice" in p for p in problems)


def test_json_schema_covers_every_variant_kind():
    from harness.suite.json_schema import suite_json_schema
    from harness.variants.base import variant_configs, variant_kinds

    schema = suite_json_schema(variant_configs())
    mapping = schema["properties"]["variants"]["items"]["discriminator"]["mapping"]
    assert set(mapping) == set(variant_kinds())
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("suite_path", sorted((REPO / "suites").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_suite_validates_with_its_data(suite_path):
    from harness.cli.main import main

    # banking77_csv.yaml reads the official CSV files beside the repository, granted as its users grant them.
    shared = REPO.parent / "shared" / "data" / "banking77"
    if "shared/data/banking77" in suite_path.read_text():
        if not shared.is_dir():
            pytest.skip(f"{shared} is not on this machine")
        assert main(["validate", str(suite_path), "--allow-path", str(shared)]) == 0
        return
    assert main(["validate", str(suite_path)]) == 0
