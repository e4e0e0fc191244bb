"""A task type defined only here runs through run -> report -> gate -> package with no other file changed.

"Yes/no with a reason": the answer is ``yes: <reason>`` or ``no: <reason>``. It
is scored by accuracy on the yes/no, by a metric no built-in type has (the share
of answers that give a reason, ``reason_rate``) and by format compliance. The
type is registered for this module only, so the other modules see the built-in
types alone.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from conftest import TINY_SUITE, write_jsonl
from pydantic import Field
from rich.console import Console
from test_report import Page

from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl
from harness.stats import intervals
from harness.tasks import (
    FailureMode,
    Metric,
    Parsed,
    ReportWords,
    TaskCommon,
    TaskType,
    register_task_type,
    task_type,
    unregister_task_type,
)
from harness.tasks.base import EMPTY, OVERLONG


# ----------------------------------------------------------------------------- the task type, in one place
class YesNoTask(TaskCommon):
    type: Literal["yes_no"]
    min_reason_words: int = Field(default=1, ge=1, description="a reason has at least this many words")


ANSWER = re.compile(r"(yes|no)\s*:\s*(.*)", re.IGNORECASE | re.DOTALL)
LONE = re.compile(r"(?<![A-Za-z])(yes|no)(?![A-Za-z])", re.IGNORECASE)


@dataclass(frozen=True)
class YesNoRules(TaskType):
    min_reason_words: int = 1

    name: ClassVar[str] = "yes_no"
    Spec: ClassVar[type] = YesNoTask
    needs_label: ClassVar[bool] = True
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("accuracy", "yes/no accuracy", "correct", gate_default=True),
        Metric("reason_rate", "reason given", "has_reason", shown_as="share", means="answers that give a reason"),
        Metric("format_compliance", "format compliance", "format_ok", shown_as="share"),
    )
    words: ClassVar[ReportWords] = ReportWords(
        headline="accuracy",
        second="reason_rate",
        columns=("accuracy", "reason_rate", "format_compliance"),
        paired=("accuracy",),
        compliant="well-formed",
        compliance_means="'yes: <reason>' or 'no: <reason>'",
        intervals="Wilson for every metric",
    )
    failure_modes: ClassVar[dict[str, FailureMode]] = {
        "empty": EMPTY,
        "overlong": OVERLONG,
        "invalid": FailureMode("no yes or no", "neither yes nor no could be read"),
        "wrong_label": FailureMode("wrong answer", "yes where no was right, or the other way round"),
        "format_only": FailureMode(
            "right, no reason", "the right answer without a reason of {min_reason_words}+ words"
        ),
    }
    failure_values: ClassVar[dict[str, str]] = {"min_reason_words": "1"}
    breakdowns: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_spec(cls, spec: YesNoTask) -> "YesNoRules":
        return cls(min_reason_words=spec.min_reason_words)

    def label_of(self, answer: str) -> str | None:
        parsed = self.parse(answer)
        return parsed.answer if parsed.format_ok else None

    def check_gold(self, answer: str) -> str | None:
        return None if self.label_of(answer) else f"answer {answer!r} is not {self.describe_answer()}"

    def describe_answer(self) -> str:
        return "'yes: <reason>' or 'no: <reason>'"

    def parse(self, output: str) -> Parsed:
        strict = ANSWER.fullmatch(output.strip())
        if strict:
            return Parsed(answer=strict.group(1).lower(), format_ok=self._reasoned(strict.group(2)))
        lone = LONE.search(output)
        return Parsed(answer=lone.group(1).lower() if lone else None, format_ok=False)

    def _reasoned(self, reason: str) -> bool:
        return len(reason.split()) >= self.min_reason_words

    def score(self, output: str, item) -> dict:
        parsed = self.parse(output)
        strict = ANSWER.fullmatch(output.strip())
        return {
            "parsed": parsed.answer,
            "gold": item.label,
            "correct": parsed.answer == item.label,
            "format_ok": parsed.format_ok,
            "has_reason": bool(strict) and self._reasoned(strict.group(2)),
        }

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        n = len(rows)
        return {
            key: intervals.proportion(sum(bool(r[field]) for r in rows), n)
            for key, field in (
                ("accuracy", "correct"),
                ("reason_rate", "has_reason"),
                ("format_compliance", "format_ok"),
            )
        }

    @staticmethod
    def confusion(row: dict) -> tuple[str, str] | None:
        return (row["gold"], row["parsed"]) if row.get("parsed") and row.get("gold") else None

    @staticmethod
    def risks(metrics: dict, n: int) -> list[str]:
        missing = n - round(metrics["reason_rate"]["value"] * n)
        return [f"{missing} of {n} answers gave no reason."] if missing else []


@pytest.fixture(scope="module", autouse=True)
def yes_no():
    register_task_type(YesNoRules)
    yield task_type("yes_no")
    unregister_task_type("yes_no")


# ----------------------------------------------------------------------------- the type alone
def item(answer: str):
    from harness.data.chat import Item, content_hash

    prompt = ({"role": "user", "content": "Is it about apples?"},)
    return Item(
        id="x",
        prompt=prompt,
        answer=answer,
        label=YesNoRules().label_of(answer),
        source="t:1",
        content_hash=content_hash(list(prompt), answer),
    )


def test_the_type_parses_scores_and_aggregates():
    rules = YesNoRules()
    gold = item("yes: it names apples")
    rows = [rules.score(out, gold) for out in ("yes: it names apples", "Yes.", "no: wrong fruit", "maybe")]
    assert [(r["parsed"], r["correct"], r["format_ok"], r["has_reason"]) for r in rows] == [
        ("yes", True, True, True),
        ("yes", True, False, False),
        ("no", False, True, True),
        (None, False, False, False),
    ]
    metrics = rules.aggregate(rows, seed=0)
    assert [metrics[k]["value"] for k in ("accuracy", "reason_rate", "format_compliance")] == [0.5, 0.5, 0.5]


def test_registration_checks_the_declarations():
    @dataclass(frozen=True)
    class Clashing(YesNoRules):
        name: ClassVar[str] = "yes_no"
        metrics: ClassVar[tuple[Metric, ...]] = (
            Metric("accuracy", "accuracy", "reason_given"),
            Metric("format_compliance", "format", "format_ok"),
        )

    with pytest.raises(ValueError, match="a metric name means one computation"):
        register_task_type(Clashing)
    with pytest.raises(ValueError, match="Spec must be a TaskCommon"):
        register_task_type(type("Unnamed", (YesNoRules,), {"name": "other"}))
    assert task_type("yes_no") is YesNoRules


# ----------------------------------------------------------------------------- the suite
TASK_START, TASK_END = TINY_SUITE.index("task:\n") + len("task:\n"), TINY_SUITE.index("  data:\n")
TINY_YES_NO = (
    TINY_SUITE[:TASK_START]
    + """\
  type: yes_no
  system_prompt: "Does the note mention apples? Answer 'yes: <reason>' or 'no: <reason>'."
  min_reason_words: 2
"""
    + TINY_SUITE[TASK_END:]
    + """\
gate:
  floors:
    reason_rate: 0.5
  allowed_drop:
    accuracy: 0.0
    reason_rate: 0.0
"""
)


def write_suite(root: Path, model_dir: Path, text: str = TINY_YES_NO) -> Path:
    for split, count, start in (("train", 12, 0), ("validation", 6, 100), ("test", 12, 200)):
        rows = [
            {
                "id": f"{split}-{i}",
                "messages": [
                    {"role": "user", "content": f"Note {i}: about {'apples' if i % 2 else 'bricks'}."},
                    {"role": "assistant", "content": "yes: it names apples" if i % 2 else "no: it is about bricks"},
                ],
            }
            for i in range(start, start + count)
        ]
        write_jsonl(root / "data" / f"{split}.jsonl", rows)
    suite = root / "yes_no.yaml"
    suite.write_text(text.format(model=model_dir))
    return suite


def test_the_suite_schema_knows_the_type_and_its_metrics(tmp_path, tiny_model_dir):
    from harness.suite import load_suite
    from harness.suite.gate_rules import GateSpec
    from harness.variants.base import variant_configs

    suite = load_suite(write_suite(tmp_path, tiny_model_dir), variant_configs())
    assert (suite.spec.task.type, suite.spec.task.min_reason_words) == ("yes_no", 2)
    assert suite.spec.gate.floors.limits() == [("reason_rate", 0.5)]
    assert suite.spec.gate.drop_limits("yes_no") == [("accuracy", 0.0), ("reason_rate", 0.0)]
    assert GateSpec().drop_limits("yes_no") == [("accuracy", 0.0)]  # the type's default: its gate_default metrics

    bad = TINY_YES_NO.replace("  min_reason_words: 2\n", "  min_reason_word: 2\n").replace(
        "    reason_rate: 0.5\n", "    reason_rate: 0.5\n    field_f1_micro: 0.5\n"
    )
    with pytest.raises(BenchError) as info:
        load_suite(write_suite(tmp_path, tiny_model_dir, bad), variant_configs())
    problems = [str(p).removeprefix(f"{tmp_path}/") for p in info.value.problems]
    assert (
        "yes_no.yaml:7: task.min_reason_word: unknown key 'min_reason_word'; did you mean 'min_reason_words'?"
        in problems[0]
    )
    assert problems[1] == (
        "yes_no.yaml:36: gate.floors.field_f1_micro: yes_no tasks do not measure field_f1_micro "
        "(metrics of yes_no tasks: accuracy, reason_rate, format_compliance)"
    )


# ----------------------------------------------------------------------------- run -> report -> gate -> package
@pytest.fixture(scope="module")
def yes_no_run(tmp_path_factory, tiny_model_dir) -> Path:
    from harness.report import write_report
    from harness.run.recipe import run_suite

    root = tmp_path_factory.mktemp("yes-no")
    text = TINY_YES_NO.replace("inference:\n", "inference:\n  variability: {{samples: 2}}\n")
    result = run_suite(write_suite(root, tiny_model_dir, text), root / "run", console=Console(file=io.StringIO()))
    assert not result.failed
    write_report(result.run_dir)
    return result.run_dir


def test_the_run_scores_every_item_by_the_types_own_rules(yes_no_run):
    results = read_json(yes_no_run / "results.json")
    assert results["task"]["type"] == "yes_no"
    for name in ("zero-shot", "few-shot", "lora"):
        record = results["variants"][name]
        assert record["status"] == "ok", record.get("reason")
        assert set(record["metrics"]) == {"accuracy", "reason_rate", "format_compliance"}
        assert record["variability"]["distinct_label_share"] is not None  # parse() read every sampled output
    rows = read_jsonl(yes_no_run / "samples.jsonl")
    assert len(rows) == 36 and all({"has_reason", "parsed", "correct"} <= set(row) for row in rows)
    manifest = read_json(yes_no_run / "manifest.json")
    assert manifest["data"]["test"]["labels"] == {"no": 6, "yes": 6}  # label_of counted the gold answers


def test_the_report_speaks_the_types_words(yes_no_run):
    html = (yes_no_run / "report.html").read_text()
    page = Page(html)
    text = " ".join(" ".join(page.text).split())
    assert sorted(page.rows_of("variant-table")) == ["few-shot", "lora", "zero-shot"]
    for words in (
        "yes/no accuracy [95% CI]",
        "reason given",
        "no yes or no",
        "right, no reason",
        "the right answer without a reason of 2+ words",
        "yes_no, 2 labels",
        "Label distribution",
    ):
        assert words in text, words
    assert (
        "| variant | yes/no accuracy [95% CI] | reason given [95% CI] | format compliance |"
        in (yes_no_run / "summary.md").read_text()
    )


def test_the_gate_checks_rules_on_the_types_own_metric(yes_no_run, tmp_path):
    from harness.gate.baseline import save_baseline
    from harness.gate.evaluate import gate_run

    baseline, saved = save_baseline(yes_no_run, "lora", tmp_path / "baseline.json")
    assert set(saved["metrics"]) == {"accuracy", "reason_rate", "format_compliance"}
    assert all("has_reason" in row for row in saved["items"])  # the field reason_rate is computed from
    outcome = gate_run(yes_no_run, baseline, console=Console(file=io.StringIO()))
    verdicts = {check.rule: check.verdict for check in outcome.checks}
    # The tiny random model never gives a reason: 0 of 12 is significantly below a floor of 50%; against
    # itself, nothing dropped.
    assert verdicts == {
        "floors.reason_rate": "fail",
        "allowed_drop.accuracy": "pass",
        "allowed_drop.reason_rate": "pass",
    }
    assert list(verdicts) == ["floors.reason_rate", "allowed_drop.accuracy", "allowed_drop.reason_rate"]
    assert outcome.exit_code == 1

    data = json.loads(baseline.read_text())
    for row in data["items"]:
        del row["has_reason"]
    baseline.write_text(json.dumps(data))
    with pytest.raises(BenchError, match="without 'has_reason', which reason_rate is computed from"):
        gate_run(yes_no_run, baseline, console=Console(file=io.StringIO()))


def test_the_package_card_names_the_types_metrics_and_risks(yes_no_run, tmp_path):
    from harness.package.build import METADATA_FILE, package_variant

    out = package_variant(yes_no_run, "lora", tmp_path / "pkg")
    metadata = read_json(out / METADATA_FILE)
    evaluation = metadata["evaluation"]
    assert list(evaluation["metrics"]) == ["accuracy", "reason_rate", "format_compliance"]
    assert evaluation["metric_names"] == {
        "accuracy": "yes/no accuracy",
        "reason_rate": "reason given",
        "format_compliance": "format compliance",
    }
    assert metadata["prompt"]["task_type"] == "yes_no" and metadata["prompt"]["min_reason_words"] == 2
    assert "12 of 12 answers gave no reason." in metadata["risks"]["observed"]
    assert metadata["dataset"]["splits"]["test"]["labels"] == {"no": 6, "yes": 6}
    card = (out / "README.md").read_text()
    assert "a yes_no task" in card and "Reason given" in card
