"""Every class of bad input ends in a clear message (file:line, field, expectation), exit code 2, no traceback."""

from __future__ import annotations

import json

import pytest

from harness.cli.main import main
from harness.variants.base import variant_configs


def run_cli(args, capsys) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, " ".join(err.split())  # rich wraps long lines; compare on collapsed whitespace


def edit_suite(suite, old, new):
    text = suite.read_text()
    assert old in text
    suite.write_text(text.replace(old, new))


def rewrite_line(path, number, text):
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("command", ["validate", "run"])
def test_malformed_yaml(tiny_suite, capsys, command):
    edit_suite(tiny_suite, "labels: [alpha, beta, gamma]", "labels: [alpha, beta, gamma")
    code, err = run_cli([command, str(tiny_suite)], capsys)
    assert code == 2 and "not valid YAML" in err and "tiny.yaml:" in err


def test_unknown_key(tiny_suite, capsys):
    edit_suite(tiny_suite, "  batch_size: 4", "  batchsize: 4")
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "tiny.yaml:17: training.batchsize: unknown key 'batchsize'; did you mean 'batch_size'?" in err


def test_wrong_type(tiny_suite, capsys):
    edit_suite(tiny_suite, "    r: 4", "    r: four")
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "variants[2].r: Input should be a valid integer" in err and "'four'" in err


def test_missing_data_file(tiny_suite, capsys):
    (tiny_suite.parent / "data" / "validation.jsonl").unlink()
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "validation.jsonl: task.data.validation: file not found" in err


def test_malformed_jsonl_line(tiny_suite, capsys):
    rewrite_line(tiny_suite.parent / "data" / "train.jsonl", 3, '{"messages": [}')
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "train.jsonl:3: not valid JSON" in err


def test_wrong_chat_role(tiny_suite, capsys):
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "bot", "content": "kind: alpha"}]}
    rewrite_line(tiny_suite.parent / "data" / "test.jsonl", 2, json.dumps(row))
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "test.jsonl:2: messages[1].role: expected 'assistant' here, got 'bot'" in err


def test_empty_split(tiny_suite, capsys):
    (tiny_suite.parent / "data" / "test.jsonl").write_text("\n")
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "split 'test' is empty" in err


def test_answer_outside_label_set(tiny_suite, capsys):
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "kind: delta"}]}
    rewrite_line(tiny_suite.parent / "data" / "train.jsonl", 5, json.dumps(row))
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "train.jsonl:5: messages[1].content: answer 'kind: delta' is not in the expected form" in err


def test_duplicate_ids(tiny_suite, capsys):
    path = tiny_suite.parent / "data" / "train.jsonl"
    first = json.loads(path.read_text().splitlines()[0])
    second = json.loads(path.read_text().splitlines()[1])
    second["id"] = first["id"]
    rewrite_line(path, 2, json.dumps(second))
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "train.jsonl:2: id: duplicate id 'train-0' (first on line 1)" in err


def test_train_test_overlap_is_an_error_by_default_and_a_warning_by_policy(tiny_suite, capsys):
    leaked = (tiny_suite.parent / "data" / "train.jsonl").read_text().splitlines()[4]
    row = json.loads(leaked)
    row["id"] = "test-leaked"
    rewrite_line(tiny_suite.parent / "data" / "test.jsonl", 3, json.dumps(row))
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "train/test leakage" in err and "test.jsonl:3: messages: same content as" in err
    edit_suite(tiny_suite, "  data:\n", "  leakage: warn\n  data:\n")
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 0 and "warning: 1 item(s) appear in two splits" in err


def test_unknown_model_alias(tiny_suite, capsys):
    text = tiny_suite.read_text()
    model_line = next(line for line in text.splitlines() if line.startswith("  name: /"))
    edit_suite(tiny_suite, model_line, "  name: smollm2-135m-instrcut")
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert (
        code == 2 and "unknown model 'smollm2-135m-instrcut'" in err and "did you mean 'smollm2-135m-instruct'?" in err
    )


def test_unknown_variant_kind(tiny_suite, capsys):
    edit_suite(tiny_suite, "kind: few_shot", "kind: fewshot")
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert (
        code == 2 and "tiny.yaml:28: variants[1].kind: unknown variant kind 'fewshot'; did you mean 'few_shot'?" in err
    )


@pytest.mark.parametrize("command", ["validate", "run"])
def test_gate_rule_on_a_metric_the_task_type_does_not_measure(tiny_suite, capsys, command):
    # tiny.yaml is a classification suite of 33 lines; the gate section starts on line 34.
    tiny_suite.write_text(
        tiny_suite.read_text() + "gate:\n  floors:\n    parse_rate: 0.9\n"
        "  allowed_drop:\n    macro_f1: 0.0\n    field_f1_macro: 0.0\n"
    )
    code, err = run_cli([command, str(tiny_suite)], capsys)
    assert code == 2 and "2 problems in the suite" in err
    assert (
        "tiny.yaml:36: gate.floors.parse_rate: classification tasks do not measure parse_rate "
        "(metrics of classification tasks: accuracy, macro_f1, format_compliance)"
    ) in err
    assert (
        "tiny.yaml:39: gate.allowed_drop.field_f1_macro: classification tasks do not measure field_f1_macro "
        "(metrics of classification tasks: accuracy, macro_f1, format_compliance)"
    ) in err
    assert "gate.allowed_drop.macro_f1:" not in err  # classification measures it


def test_missing_optional_dependency_names_the_install_command():
    from harness.core.errors import MissingDependency, require

    with pytest.raises(MissingDependency) as info:
        require("surely_not_installed_pkg", package="surely-not-installed", feature="the test kind")
    assert str(info.value) == (
        "the test kind needs the optional package 'surely-not-installed', which is not installed\n"
        "hint: pip install surely-not-installed"
    )


def test_unwritable_output_folder(tiny_suite, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run folder's parent should be")
    code, err = run_cli(["run", str(tiny_suite), "--out", str(blocker / "run")], capsys)
    assert code == 2 and "cannot write" in err and "not-a-folder" in err


def test_data_paths_are_confined_to_the_suite_folder(tiny_suite, capsys):
    edit_suite(tiny_suite, "test: data/test.jsonl", "test: ../../etc/passwd")
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "outside the suite's folder" in err and "tiny.yaml:12: task.data.test" in err


def test_suite_yaml_cannot_construct_python_objects(tiny_suite, capsys):
    edit_suite(tiny_suite, "name: tiny", "name: !!python/object/apply:os.system ['touch /tmp/bench-pwned']")
    code, err = run_cli(["validate", str(tiny_suite)], capsys)
    assert code == 2 and "not valid YAML" in err


def test_remote_code_is_off_unless_the_suite_opts_in(tiny_suite):
    from harness.suite import load_suite

    assert load_suite(tiny_suite, variant_configs()).spec.base_model.trust_remote_code is False
