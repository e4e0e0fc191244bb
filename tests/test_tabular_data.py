"""Tables as a suite's data: CSV, TSV, Parquet, JSONL rows and a datasets folder read into the same items a
chat JSONL file gives; a validation split carved from train; bad rows named by file, row and column; bytes
that are not UTF-8 named by line and offset; `bench data import`.

The tables are the tiny suite's notes ("apples" is alpha), written in tmp_path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import LABELS, WORDS

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.core.files import read_json
from harness.data.splits import load_suite_data, read_split
from harness.suite import load_suite
from harness.tasks import ClassificationTaskRules, task_from_spec
from harness.variants.base import variant_configs

TASK = ClassificationTaskRules(labels=tuple(LABELS), answer_format="kind: {label}")

SUITE = """\
schema_version: 1
name: tables
seed: 7
task:
  type: classification
  labels: [alpha, beta, gamma]
  answer_format: "kind: {{label}}"
  system_prompt: "Classify the note."
  data:
{data}
base_model:
  name: {model}
variants:
  - {{name: tfidf, kind: tfidf}}
"""


def frame(prefix: str, count: int, start: int = 0) -> pd.DataFrame:
    rows = []
    for i in range(start, start + count):
        label = LABELS[i % len(LABELS)]
        rows.append({"note": f"Note {i}: about {WORDS[label]} number {i * 7 % 13}.", "kind": label})
    return pd.DataFrame(rows)


def write_suite(folder: Path, data: str, model: str = "smollm2-135m-instruct") -> Path:
    suite = folder / "suite.yaml"
    suite.write_text(SUITE.format(data=data, model=model))
    return suite


def load(suite: Path):
    loaded = load_suite(suite, variant_configs())
    return load_suite_data(loaded, task_from_spec(loaded.spec.task), warn=lambda *_: None)


def csv_suite(folder: Path, train: pd.DataFrame | None = None, extra: str = "") -> Path:
    (frame("train", 30) if train is None else train).to_csv(folder / "train.csv", index=False)
    frame("test", 9, start=200).to_csv(folder / "test.csv", index=False)
    columns = "columns: {text: note, label: kind}"
    return write_suite(
        folder, f"    train: {{path: train.csv, {columns}}}\n    test: {{path: test.csv, {columns}}}\n{extra}"
    )


# ----------------------------------------------------------------------------- every format, the same items
def test_a_csv_row_becomes_the_item_a_chat_line_would(tmp_path):
    splits = load(csv_suite(tmp_path))
    item = splits["test"].items[0]
    assert item.id == "test-1"
    assert item.prompt_messages() == [{"role": "user", "content": "Note 200: about clouds number 9."}]
    assert item.answer == "kind: gamma" and item.label == "gamma"
    assert item.source.endswith("test.csv: row 1")
    summary = splits["test"].summary()
    assert summary["source"]["format"] == "csv" and summary["source"]["columns"] == {"text": "note", "label": "kind"}


def write_format(folder: Path, fmt: str) -> str:
    """The same train and test tables in ``fmt``; returns the suite's data entries."""
    train, test = frame("train", 30), frame("test", 9, start=200)
    columns = "columns: {text: note, label: kind}"
    if fmt == "datasets":
        import datasets

        features = datasets.Features({"note": datasets.Value("string"), "kind": datasets.ClassLabel(names=LABELS)})
        folder_path = folder / "notes"
        datasets.DatasetDict(
            {
                "train": datasets.Dataset.from_pandas(train, features=features, preserve_index=False),
                "test": datasets.Dataset.from_pandas(test, features=features, preserve_index=False),
            }
        ).save_to_disk(str(folder_path))
        return f"    train: {{path: notes, {columns}}}\n    test: {{path: notes, {columns}}}\n"
    suffix = {"tsv": "tsv", "parquet": "parquet", "jsonl": "jsonl"}[fmt]
    for name, table in (("train", train), ("test", test)):
        path = folder / f"{name}.{suffix}"
        if fmt == "tsv":
            table.to_csv(path, sep="\t", index=False)
        elif fmt == "parquet":
            table.to_parquet(path, index=False)
        else:
            table.to_json(path, orient="records", lines=True)
    return f"    train: {{path: train.{suffix}, {columns}}}\n    test: {{path: test.{suffix}, {columns}}}\n"


@pytest.mark.parametrize("fmt", ["tsv", "parquet", "jsonl", "datasets"])
def test_tsv_parquet_jsonl_and_a_datasets_folder_give_the_csv_items(tmp_path, fmt):
    expected = load(csv_suite(tmp_path / "csv" if (tmp_path / "csv").mkdir() is None else None))
    other = tmp_path / fmt
    other.mkdir()
    splits = load(write_suite(other, write_format(other, fmt)))
    for name in ("train", "validation", "test"):
        got, want = splits[name].items, expected[name].items
        assert [(i.id, i.prompt, i.answer, i.label) for i in got] == [(i.id, i.prompt, i.answer, i.label) for i in want]
        assert splits[name].sha256 == expected[name].sha256  # a fingerprint of the items, whatever the format
    assert splits["test"].summary()["source"]["format"] == fmt


def test_a_template_joins_several_input_columns(tmp_path):
    table = frame("train", 9).assign(title=lambda f: "T" + f.index.astype(str))
    table.to_csv(tmp_path / "all.csv", index=False)
    entry = '{path: all.csv, columns: {title: title, body: note, label: kind}, template: "Title: {title}\\n{body}"}'
    splits = load(write_suite(tmp_path, f"    test: {entry}\n"))
    assert splits["test"].items[0].prompt[0]["content"] == "Title: T0\nNote 0: about apples number 0."


def test_a_plain_path_is_chat_jsonl_and_its_resolved_config_is_unchanged(tmp_path):
    from harness.suite.schema import DataFiles

    files = DataFiles.model_validate({"train": "data/train.jsonl", "test": "data/test.jsonl"})
    assert files.model_dump(mode="json") == {"train": "data/train.jsonl", "validation": None, "test": "data/test.jsonl"}
    assert files.carve_share() == 0.0  # chat JSONL without validation stays as it was: nothing carved


def test_a_csv_named_as_a_plain_path_asks_for_columns(tmp_path, capsys):
    csv_suite(tmp_path)
    suite = write_suite(tmp_path, "    test: test.csv\n")
    assert main(["validate", str(suite)]) == 2
    err = capsys.readouterr().err
    assert "task.data.test" in err and "needs columns" in err


# ----------------------------------------------------------------------------- the carved validation split
def test_the_carved_validation_split_is_stratified_deterministic_and_disjoint(tmp_path):
    train = pd.concat([frame("train", 60), frame("train", 60, start=0)])  # every note twice: duplicates move together
    suite = csv_suite(tmp_path, train=train)
    first, again = load(suite), load(suite)
    validation, rest = first["validation"], first["train"]
    assert [i.id for i in validation.items] == [i.id for i in again["validation"].items]
    assert len(validation.items) + len(rest.items) == 120
    assert {i.content_hash for i in validation.items}.isdisjoint({i.content_hash for i in rest.items})
    counts = validation.summary()["labels"]
    assert counts == {"alpha": 4, "beta": 4, "gamma": 4}  # 10% of 40 distinct notes per label, per label
    carving = {"carved_from": "train", "share": 0.1, "seed": 7, "stratified": True}
    assert carving.items() <= validation.summary()["source"].items()
    assert rest.summary()["source"]["validation_carved"] == 12
    ids = [int(i.id.split("-")[1]) for i in validation.items]
    assert ids == sorted(ids)  # the file's order

    other_seed = suite.read_text().replace("seed: 7", "seed: 8")
    suite.write_text(other_seed)
    assert [i.id for i in load(suite)["validation"].items] != [i.id for i in validation.items]


def test_validation_share_zero_carves_nothing_and_a_chat_suite_can_ask_for_it(tmp_path):
    splits = load(csv_suite(tmp_path, extra="    validation_share: 0\n"))
    assert "validation" not in splits and len(splits["train"].items) == 30


def test_a_manifest_records_the_carving(tiny_model_dir, tmp_path):
    suite = csv_suite(tmp_path)
    suite.write_text(suite.read_text().replace("smollm2-135m-instruct", str(tiny_model_dir)))
    out = tmp_path / "run"
    assert main(["run", str(suite), "--only", "tfidf", "--out", str(out), "--allow-path", str(tiny_model_dir)]) == 0
    manifest = read_json(out / "manifest.json")
    assert manifest["data"]["validation"]["source"]["carved_from"] == "train"
    assert manifest["data"]["validation"]["items"] + manifest["data"]["train"]["items"] == 30
    results = read_json(out / "results.json")
    assert results["variants"]["tfidf"]["metrics"]["accuracy"]["value"] == 1.0


# ----------------------------------------------------------------------------- bad rows, by file, row and column
def test_a_missing_and_an_unknown_label_are_named_by_file_row_and_column(tmp_path, capsys):
    train = frame("train", 30)
    train.loc[2, "kind"] = ""
    train.loc[4, "kind"] = "gamme"
    suite = csv_suite(tmp_path, train=train)
    with pytest.raises(BenchError) as caught:
        load(suite)
    problems = [str(p) for p in caught.value.problems]
    train_csv = str((tmp_path / "train.csv").resolve())
    assert f"{train_csv}: row 3, column 'kind': empty cell: missing label" in problems
    assert any(
        p.startswith(f"{train_csv}: row 5, column 'kind': unknown label 'gamme'; did you mean 'gamma'?")
        for p in problems
    )
    assert len(problems) == 2
    assert main(["validate", str(suite)]) == 2
    assert "row 5, column 'kind': unknown label 'gamme'" in capsys.readouterr().err


def test_a_mapped_column_missing_from_the_table_gets_a_did_you_mean(tmp_path):
    frame("test", 3).to_csv(tmp_path / "test.csv", index=False)
    suite = write_suite(tmp_path, "    test: {path: test.csv, columns: {text: note, label: knd}}\n")
    with pytest.raises(BenchError) as caught:
        load(suite)
    assert "task.data.test.columns.label: no column 'knd' in the table; did you mean 'kind'?" in str(caught.value)


def test_a_hub_dataset_offline_is_a_one_line_error_with_exit_code_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    entry = "{hub: PolyAI/banking77, revision: main, columns: {text: text, label: label}}"
    suite = write_suite(tmp_path, f"    test: {entry}\n")
    assert main(["validate", str(suite)]) == 2
    err = capsys.readouterr().err
    assert "needs a network, and HF_HUB_OFFLINE is set" in err and "Traceback" not in err


def test_a_hub_dataset_needs_a_pinned_revision(tmp_path, capsys):
    suite = write_suite(tmp_path, "    test: {hub: PolyAI/banking77, columns: {text: text, label: label}}\n")
    assert main(["validate", str(suite)]) == 2
    assert "needs revision" in capsys.readouterr().err


# ----------------------------------------------------------------------------- bytes that are not UTF-8
def chat_line(text: str, label: str) -> bytes:
    row = {"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": f"kind: {label}"}]}
    return json.dumps(row, ensure_ascii=False).encode()


def test_non_utf8_bytes_in_jsonl_are_an_error_with_line_and_byte_offset(tmp_path):
    first = chat_line("café apples", "alpha") + b"\n"
    bad = chat_line("bricks \xff", "beta").replace(b"\xc3\xbf", b"\xff")  # a lone 0xff, not the UTF-8 of U+00FF
    path = tmp_path / "train.jsonl"
    path.write_bytes(first + bad + b"\n")
    with pytest.raises(BenchError) as caught:
        read_split("train", path, TASK)
    (problem,) = caught.value.problems
    column = bad.index(b"\xff")
    assert problem.line == 2
    assert f"byte 0xff at byte offset {len(first) + column} of the file (byte {column + 1} of the line)" in str(problem)


def test_a_non_utf8_table_is_an_error_unless_its_encoding_is_named(tmp_path):
    frame("test", 3).to_csv(tmp_path / "test.csv", index=False, encoding="cp1252")
    text = (tmp_path / "test.csv").read_text(encoding="cp1252").replace("Note 1", "Café 1")
    (tmp_path / "test.csv").write_bytes(text.encode("cp1252"))
    suite = write_suite(tmp_path, "    test: {path: test.csv, columns: {text: note, label: kind}}\n")
    with pytest.raises(BenchError) as caught:
        load(suite)
    assert caught.value.problems[0].line == 3 and "not valid UTF-8" in str(caught.value.problems[0])
    suite = write_suite(tmp_path, "    test: {path: test.csv, columns: {text: note, label: kind}, encoding: cp1252}\n")
    assert load(suite)["test"].items[1].prompt[0]["content"].startswith("Café 1")


def test_data_check_flags_the_bytes_and_fix_copies_kept_lines_byte_for_byte(tmp_path, capsys):
    kept = [chat_line("café apples 1", "alpha") + b"\r", chat_line("bricks 2 \u2028 naïve", "beta")]
    bad = chat_line("clouds 3", "gamma").replace(b"clouds", b"cl\xe9ouds")
    path = tmp_path / "train.jsonl"
    path.write_bytes(kept[0] + b"\n" + bad + b"\n" + kept[1] + b"\n")
    code = main(["data", "check", str(path), "--labels", *LABELS, "--answer-format", "kind: {label}", "--fix"])
    assert code == 1
    assert "not valid UTF-8" in capsys.readouterr().out.replace("\n", "")
    assert (tmp_path / "train.clean.jsonl").read_bytes() == kept[0] + b"\n" + kept[1] + b"\n"


# ----------------------------------------------------------------------------- bench data import
def test_data_import_writes_chat_jsonl_and_a_suite_that_validates(tmp_path, capsys):
    suite = csv_suite(tmp_path)
    out = tmp_path / "imported"
    args = ["data", "import", str(tmp_path / "train.csv"), f"test={tmp_path / 'test.csv'}"]
    args += ["--text", "note", "--label", "kind", "--answer-format", "kind: {label}", "--seed", "7", "--out", str(out)]
    assert main(args) == 0
    written = {p.name for p in (out / "data").iterdir()}
    assert written == {"train.jsonl", "validation.jsonl", "test.jsonl"}
    assert main(["validate", str(out / "suite.yaml")]) == 0
    imported = load(out / "suite.yaml")
    direct = load(suite)  # the same tables named in a suite, with the same seed: the same items, the same carving
    for name in ("train", "validation", "test"):
        assert [(i.id, i.prompt, i.answer) for i in imported[name].items] == [
            (i.id, i.prompt, i.answer) for i in direct[name].items
        ]
    skeleton = (out / "suite.yaml").read_text()
    assert 'labels: ["alpha", "beta", "gamma"]' in skeleton and "kind: tfidf" in skeleton
    assert main(args) == 2  # nothing is overwritten
    assert "would overwrite" in capsys.readouterr().err
