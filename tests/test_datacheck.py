"""`bench data check`: planted problems are found (and only they), the cleaned copy is right, inputs are untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import make_items, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.data.splits import read_split
from harness.datacheck import CheckOptions, check_data, near_dupes
from harness.datacheck.fix import write_cleaned
from harness.datacheck.near_dupes import contained_pairs, near_duplicate_pairs, shingles
from harness.tasks import ClassificationTaskRules

TASK = ClassificationTaskRules(labels=("alpha", "beta", "gamma"), answer_format="kind: {label}")
TOPICS = ["orchard harvest", "brick kiln", "storm front"]
LABELS = ["alpha", "beta", "gamma"]


def item(item_id: str, text: str, label: str) -> dict:
    return {
        "id": item_id,
        "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": f"kind: {label}"}],
    }


def varied(prefix: str, count: int, start: int = 0) -> list[dict]:
    """Items that share little wording, so nothing is flagged unless planted."""
    words = [
        "amber",
        "basalt",
        "cobalt",
        "dune",
        "ember",
        "fjord",
        "garnet",
        "harbor",
        "iris",
        "jade",
        "kelp",
        "lagoon",
        "meadow",
        "nectar",
        "opal",
        "prairie",
        "quartz",
        "reef",
        "sierra",
        "tundra",
        "umber",
        "valley",
        "willow",
        "yarrow",
        "zephyr",
        "atlas",
        "birch",
        "cedar",
        "delta",
        "estuary",
    ]
    rows = []
    for i in range(start, start + count):
        w = [words[(i * k + 3) % len(words)] for k in (1, 7, 11, 13)]
        text = f"Report {i} on the {TOPICS[i % 3]}: {w[0]} {w[1]} near {w[2]}, then {w[3]} at hour {i * 5 % 23}."
        rows.append(item(f"{prefix}-{i}", text, LABELS[i % 3]))
    return rows


@pytest.fixture
def planted(tmp_path) -> dict[str, Path]:
    """Clean varied data with known problems planted at known lines."""
    train = varied("train", 24)
    test = varied("test", 9, start=100)
    validation = varied("val", 6, start=200)
    text = lambda row: row["messages"][0]["content"]  # noqa: E731
    train.append(item("dup", text(train[3]), LABELS[3 % 3]))  # line 25: exact duplicate of line 4
    train.append(item("conflict", text(train[5]), "alpha"))  # line 26: line 6's input (gamma) answered alpha
    train.append(item("near", text(train[7]) + " Noted.", LABELS[7 % 3]))  # line 27: near-duplicate of line 8
    test.append(item("leak-exact", text(train[10]), LABELS[10 % 3]))  # test line 10: train line 11's input
    test.append(
        item("leak-near", text(train[12]).upper().replace(":", " -"), LABELS[12 % 3])
    )  # test 11: train 13, recased
    train.append(
        item("holds-test", "Background. " + text(test[2]) + " More words follow here.", LABELS[2])
    )  # train 28 contains test 3
    validation.append(item("val-leak", text(train[15]), LABELS[15 % 3]))  # validation line 7: train line 16
    return {
        "train": write_jsonl(tmp_path / "train.jsonl", train),
        "validation": write_jsonl(tmp_path / "val.jsonl", validation),
        "test": write_jsonl(tmp_path / "test.jsonl", test),
    }


def lines_of(finding) -> set[tuple[str, int]]:
    return {(Path(s.rsplit(":", 1)[0]).name, int(s.rsplit(":", 1)[1])) for s in finding.sources}


def test_finds_every_planted_problem_and_nothing_else(planted):
    report = check_data(planted, TASK)
    found = {(f.check, frozenset(lines_of(f))) for f in report.findings}
    assert found == {
        ("exact_duplicate", frozenset({("train.jsonl", 4), ("train.jsonl", 25)})),
        ("conflicting_answers", frozenset({("train.jsonl", 6), ("train.jsonl", 26)})),
        ("near_duplicate", frozenset({("train.jsonl", 8), ("train.jsonl", 27)})),
        ("leakage", frozenset({("test.jsonl", 10), ("train.jsonl", 11)})),
        ("near_leakage", frozenset({("test.jsonl", 11), ("train.jsonl", 13)})),
        ("near_leakage", frozenset({("test.jsonl", 3), ("train.jsonl", 28)})),
        ("leakage", frozenset({("val.jsonl", 7), ("train.jsonl", 16)})),
    }
    assert {f.check: f.severity for f in report.findings} == {
        "exact_duplicate": "warning",
        "near_duplicate": "warning",
        "conflicting_answers": "error",
        "leakage": "error",
        "near_leakage": "error",
    }
    assert report.exit_code == 1 and not report.ok
    # A cleaned copy drops the later duplicate, both conflicting lines, and the training side of every leak.
    assert report.removals == {
        "train": {
            6: "conflicting answers for the same input",
            11: "same input as test.jsonl:10 (test)",
            13: "overlaps test.jsonl:11 (test)",
            16: "same input as val.jsonl:7 (validation)",
            25: "exact duplicate of train.jsonl:4",
            26: "conflicting answers for the same input",
            27: "near-duplicate of train.jsonl:8",
            28: "overlaps test.jsonl:3 (test)",
        },
        "validation": {},
        "test": {},
    }


def test_clean_data_is_clean_with_exit_code_zero(tmp_path):
    files = {
        "train": write_jsonl(tmp_path / "train.jsonl", make_items("train", 12)),
        "test": write_jsonl(tmp_path / "test.jsonl", make_items("test", 9, start=200)),
    }
    report = check_data(files, TASK)
    assert report.findings == [] and report.exit_code == 0
    assert report.splits["train"].labels == {"alpha": 4, "beta": 4, "gamma": 4}
    assert report.splits["test"].items == 9 and report.splits["test"].lines == 9
    assert report.splits["train"].sha256 == hashlib.sha256(files["train"].read_bytes()).hexdigest()


def test_format_problems_are_those_bench_run_reports(tmp_path):
    rows = [json.dumps(r) for r in make_items("train", 3)]
    rows.insert(1, "{not json")
    rows.insert(2, json.dumps(item("bad-label", "text", "delta")))
    rows.insert(3, json.dumps({"messages": [{"role": "assistant", "content": "kind: alpha"}]}))
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(BenchError) as loader:
        read_split("train", path, TASK)
    report = check_data({"train": path}, TASK)
    expected = [f"train.jsonl:{p.line}: {p.field + ': ' if p.field else ''}{p.message}" for p in loader.value.problems]
    assert [f.message for f in report.by_check("format")] == expected and len(expected) == 3
    assert sorted(report.removals["train"]) == [2, 3, 4]
    assert report.splits["train"].items == 3 and report.splits["train"].lines == 6


def test_repeated_id_is_an_error(tmp_path):
    rows = make_items("train", 4)
    rows[3]["id"] = rows[0]["id"]
    report = check_data({"train": write_jsonl(tmp_path / "train.jsonl", rows)}, TASK)
    [finding] = report.findings
    assert finding.check == "duplicate_id" and finding.severity == "error" and "train.jsonl:1" in finding.message
    assert report.removals["train"] == {4: "duplicate id 'train-0'"}


def test_fix_writes_cleaned_copies_and_never_edits_the_inputs(planted, tmp_path):
    before = {name: path.read_bytes() for name, path in planted.items()}
    report = check_data(planted, TASK)
    written = write_cleaned(report, tmp_path / "clean")
    assert {name: path.read_bytes() for name, path in planted.items()} == before
    assert written["train"] == tmp_path / "clean" / "train.clean.jsonl"
    kept = written["train"].read_text().splitlines()
    original = planted["train"].read_text().splitlines()
    assert kept == [line for number, line in enumerate(original, start=1) if number not in report.removals["train"]]
    assert written["test"].read_bytes() == before["test"]  # the scored split keeps every item
    again = check_data({name: written[name] for name in planted}, TASK)
    assert again.findings == []


def test_fix_refuses_to_write_over_an_input(tmp_path):
    # a.jsonl's cleaned copy would be a.clean.jsonl, which is the other input
    files = {
        "train": write_jsonl(tmp_path / "a.jsonl", make_items("train", 3)),
        "test": write_jsonl(tmp_path / "a.clean.jsonl", make_items("test", 3, start=50)),
    }
    before = files["test"].read_bytes()
    with pytest.raises(BenchError, match="overwrite an input"):
        write_cleaned(check_data(files, TASK))
    assert files["test"].read_bytes() == before
    assert (
        write_cleaned(check_data(files, TASK), tmp_path / "elsewhere")["test"]
        == tmp_path / "elsewhere" / "a.clean.clean.jsonl"
    )


def test_labels_missing_imbalanced_and_shifted(tmp_path):
    train = [
        item(f"t{i}", f"Case {i} " + " ".join(f"w{i}x{k}" for k in range(6)), "alpha" if i < 24 else "beta")
        for i in range(28)
    ]
    test = [item(f"x{i}", f"Test {i} " + " ".join(f"v{i}y{k}" for k in range(6)), LABELS[i % 3]) for i in range(24)]
    report = check_data(
        {"train": write_jsonl(tmp_path / "train.jsonl", train), "test": write_jsonl(tmp_path / "test.jsonl", test)},
        TASK,
    )
    checks = {(f.check, f.split) for f in report.findings}
    assert checks == {("missing_label", "train"), ("label_imbalance", "train"), ("label_shift", "test")}
    [imbalance] = report.by_check("label_imbalance")
    assert imbalance.score == 6.0
    [shift] = report.by_check("label_shift")
    # train: 24/28 alpha, 4/28 beta; test: a third each -> TV = |6/7 - 1/3|
    assert shift.score == pytest.approx(round(24 / 28 - 1 / 3, 4))
    assert "'gamma'" in report.by_check("missing_label")[0].message
    assert report.removals == {"train": {}, "test": {}}  # label problems are reported, not "fixed"


def test_free_text_answers_without_a_task(tmp_path):
    rows = [item(f"q{i}", f"Question {i} " + " ".join(f"z{i}q{k}" for k in range(5)), "x") for i in range(4)]
    for i, row in enumerate(rows):
        row["messages"][1]["content"] = f"A free answer number {i} with its own words"
    report = check_data({"train": write_jsonl(tmp_path / "data.jsonl", rows)})
    assert report.findings == [] and report.splits["train"].labels is None


def test_length_outliers(tmp_path):
    rows = [
        item(f"t{i}", f"Short note {i} " + " ".join(f"u{i}n{k}" for k in range(8)), LABELS[i % 3]) for i in range(12)
    ]
    rows[5]["messages"][0]["content"] = " ".join(f"long{k}" for k in range(300))
    report = check_data({"train": write_jsonl(tmp_path / "train.jsonl", rows)}, TASK)
    [finding] = report.findings
    assert finding.check == "length_outlier" and lines_of(finding) == {("train.jsonl", 6)}
    assert "302 words" in finding.message  # 300 words of input + "kind alpha"


def test_unreadable_input_is_a_bench_error(tmp_path):
    with pytest.raises(BenchError, match="not found"):
        check_data({"train": tmp_path / "missing.jsonl"}, TASK)
    with pytest.raises(BenchError, match="threshold"):
        CheckOptions(near_duplicate=1.5)


# ----------------------------------------------------------------------------- similarity
def test_shingles_and_scores_on_a_worked_example():
    assert shingles("The cat, the HAT!", 2) == ["the cat", "cat the", "the hat"]
    assert shingles("one two", 3) == ["one two"]  # shorter than n: one shingle
    # {a b, b c, c d} vs {a b, b c, c e}: 2 shared of 4 -> Jaccard 0.5; containment 2/3
    [pair] = near_duplicate_pairs(["a b c d", "a b c e", "x y z"], n=2, threshold=0.5)
    assert (pair.a, pair.b, pair.score) == (0, 1, 0.5)
    assert near_duplicate_pairs(["a b c d", "a b c e"], n=2, threshold=0.51) == []
    [pair] = contained_pairs(["a b c d"], ["q a b c e", "z"], n=2, threshold=0.6)
    assert (pair.a, pair.b) == (0, 0) and pair.score == pytest.approx(2 / 3)


def test_block_size_does_not_change_the_answer(monkeypatch):
    texts = [f"w{i % 4} w{i % 3} w{i % 5} w{i % 2}" for i in range(30)]
    whole = near_duplicate_pairs(texts, n=2, threshold=0.3)
    monkeypatch.setattr(near_dupes, "PAIRS_PER_BLOCK", 7)
    assert near_duplicate_pairs(texts, n=2, threshold=0.3) == whole and whole


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=7), min_size=2, max_size=6),
    st.integers(min_value=1, max_value=3),
    st.floats(min_value=0.05, max_value=1.0),
)
def test_jaccard_pairs_match_a_brute_force_set_computation(word_lists, n, threshold):
    texts = [" ".join(words) for words in word_lists]
    sets = [set(shingles(t, n)) for t in texts]
    expected = {
        (i, j)
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
        if len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold
    }
    found = near_duplicate_pairs(texts, n=n, threshold=threshold)
    assert {(p.a, p.b) for p in found} == expected
    for p in found:
        assert p.score == pytest.approx(len(sets[p.a] & sets[p.b]) / len(sets[p.a] | sets[p.b]))


# ----------------------------------------------------------------------------- command
def test_cli_exit_codes_json_and_fix(planted, tmp_path, capsys):
    report_path = tmp_path / "report.json"
    args = [
        "data",
        "check",
        f"train={planted['train']}",
        str(planted["validation"]),
        str(planted["test"]),
        "--labels",
        *LABELS,
        "--answer-format",
        "kind: {label}",
        "--json",
        str(report_path),
        "--fix",
        "--out",
        str(tmp_path / "clean"),
    ]
    assert main(args) == 1
    written = json.loads(report_path.read_text())
    assert written["summary"] == {
        "errors": 5,
        "warnings": 2,
        "exit_code": 1,
        "lines_a_fix_drops": {"train": 8, "validation": 0, "test": 0},
    }
    assert set(written["splits"]) == {"train", "validation", "test"}  # val.jsonl read as the validation split
    assert "near_leakage" in capsys.readouterr().out
    cleaned = {name: tmp_path / "clean" / f"{Path(p).stem}.clean.jsonl" for name, p in planted.items()}
    assert (
        main(
            [
                "data",
                "check",
                *(f"{name}={path}" for name, path in cleaned.items()),
                "--labels",
                *LABELS,
                "--answer-format",
                "kind: {label}",
            ]
        )
        == 0
    )
    assert main(["data", "check", str(tmp_path / "nope.jsonl")]) == 2


def test_cli_checks_a_suites_data(tiny_suite):
    assert main(["data", "check", "--suite", str(tiny_suite)]) == 0
    (tiny_suite.parent / "data" / "test.jsonl").write_text(
        (tiny_suite.parent / "data" / "train.jsonl").read_text().splitlines()[0] + "\n"
    )
    assert main(["data", "check", "--suite", str(tiny_suite)]) == 1
