"""Chat JSONL checks: each bad line is reported with file:line, field and what was expected."""

from __future__ import annotations

import json

import pytest

from harness.core.errors import BenchError
from harness.data.splits import find_overlap, read_split
from harness.tasks import ClassificationTaskRules

TASK = ClassificationTaskRules(labels=("yes", "no"), answer_format="answer: {label}")


def good(i: int, label: str = "yes", text: str | None = None) -> str:
    return json.dumps(
        {
            "id": f"i{i}",
            "messages": [
                {"role": "user", "content": text or f"question {i}"},
                {"role": "assistant", "content": f"answer: {label}"},
            ],
        }
    )


def problems(tmp_path, lines: list[str]) -> list[str]:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchError) as info:
        read_split("train", path, TASK)
    return [str(p) for p in info.value.problems]


def test_good_file_reads_items_labels_and_fingerprint(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(good(1) + "\n" + good(2, "no") + "\n")
    split = read_split("train", path, TASK)
    assert [(i.id, i.label) for i in split.items] == [("i1", "yes"), ("i2", "no")]
    assert split.items[0].prompt == ({"role": "user", "content": "question 1"},)
    assert len(split.sha256) == 64 and split.summary()["labels"] == {"no": 1, "yes": 1}


def test_malformed_json_line(tmp_path):
    found = problems(tmp_path, [good(1), '{"messages": [', good(3)])
    assert found == [f"{tmp_path / 'd.jsonl'}:2: not valid JSON (Expecting value at column 15)"]


def test_wrong_role_order(tmp_path):
    line = json.dumps({"messages": [{"role": "assistant", "content": "answer: yes"}, {"role": "user", "content": "q"}]})
    assert problems(tmp_path, [line]) == [
        f"{tmp_path / 'd.jsonl'}:1: messages[0].role: expected 'user' here, got 'assistant' "
        "(roles: optional system, then user/assistant alternating, ending with assistant)"
    ]


def test_missing_final_answer(tmp_path):
    line = json.dumps({"messages": [{"role": "user", "content": "q"}]})
    assert problems(tmp_path, [line]) == [
        f"{tmp_path / 'd.jsonl'}:1: messages[0].role: the last message must be the assistant's answer"
    ]


def test_empty_content(tmp_path):
    line = json.dumps(
        {"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "answer: yes"}]}
    )
    assert problems(tmp_path, [line]) == [f"{tmp_path / 'd.jsonl'}:1: messages[0].content: expected non-empty text"]


def test_answer_outside_label_set(tmp_path):
    found = problems(tmp_path, [good(1, "maybe")])
    assert found == [
        f"{tmp_path / 'd.jsonl'}:1: messages[1].content: answer 'answer: maybe' is not in the expected form "
        "'answer: {label}' with label one of ['yes', 'no']"
    ]


def test_duplicate_ids(tmp_path):
    assert problems(tmp_path, [good(1), good(1, text="other")]) == [
        f"{tmp_path / 'd.jsonl'}:2: id: duplicate id 'i1' (first on line 1)"
    ]


def test_empty_split(tmp_path):
    assert problems(tmp_path, [""]) == [
        f"{tmp_path / 'd.jsonl'}: split 'train' is empty: expected at least one JSONL line"
    ]


def test_all_problems_of_a_file_at_once(tmp_path):
    assert len(problems(tmp_path, ["nope", good(2, "maybe"), good(3), "[]"])) == 3


def test_overlap_between_splits_is_found_by_content_not_id(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(good(1, text="same  text") + "\n" + good(2) + "\n")
    b.write_text(good(9, text="same text") + "\n")
    splits = {"train": read_split("train", a, TASK), "test": read_split("test", b, TASK)}
    [(first_split, first, second_split, second)] = find_overlap(splits)
    assert (first_split, first.id, second_split, second.id) == ("train", "i1", "test", "i9")
