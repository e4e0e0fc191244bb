"""Classification: the answer is ``answer_format`` with ``{label}`` filled by one label.

Two readings of an output, kept apart on purpose:
- **format_ok**: the whole output (trimmed) is exactly the answer format with a
  valid label. This is what a downstream parser relying on the format sees.
- **label**: the label the output names, read leniently (the format's prefix
  followed by a label, or failing that a lone valid label). Accuracy uses it,
  so a right answer with a stray full stop counts as right but not as well-formed.

Metrics: accuracy, macro-F1 (ranks the variants), format compliance, invalid
rate, per-class scores and the confusion matrix, each headline metric with a
95% interval. When every answer carries a confidence, ``calibration``:
ECE, Brier, selective accuracy and the risk-coverage curve (harness/stats/calibration.py). An unreadable output is its own column, ``<invalid>``, in the
confusion matrix and counts as a miss for every class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field, field_validator
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from harness.stats import additive, calibration, intervals
from harness.tasks.base import (
    EMPTY,
    OVERLONG,
    FailureMode,
    Metric,
    Parsed,
    ReportWords,
    TaskCommon,
    TaskType,
    register_task_type,
    weakest,
)

INVALID = "<invalid>"


class ClassificationTask(TaskCommon):
    type: Literal["classification"] = "classification"
    labels: list[str] = Field(min_length=2, description="the label set; answers outside it are invalid")
    answer_format: str = Field(
        default="{label}",
        description="the exact form of a well-formed answer; '{label}' stands for the label",
    )

    @field_validator("labels")
    @classmethod
    def labels_unique(cls, labels: list[str]) -> list[str]:
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        if dupes:
            raise ValueError(f"labels repeat: {dupes}")
        return labels

    @field_validator("answer_format")
    @classmethod
    def format_has_label(cls, fmt: str) -> str:
        if fmt.count("{label}") != 1:
            raise ValueError("answer_format must contain '{label}' exactly once")
        return fmt


def macro_f1_parts(rows: Sequence[dict], labels: Sequence[str]):
    return (
        additive.macro_f1_parts([r.get("gold") for r in rows], [r.get("parsed") for r in rows], labels),
        additive.macro_f1_from_sums,
    )


@register_task_type
@dataclass(frozen=True)
class ClassificationTaskRules(TaskType):
    labels: tuple[str, ...]
    answer_format: str

    name: ClassVar[str] = "classification"
    Spec: ClassVar[type] = ClassificationTask
    needs_label: ClassVar[bool] = True
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("accuracy", "accuracy", "correct", gate_default=True),
        Metric("macro_f1", "macro-F1", "parsed", combine=macro_f1_parts, hub_type="f1", hub_args={"average": "macro"}),
        Metric("format_compliance", "format compliance", "format_ok", shown_as="share", means="exact answer format"),
    )
    words: ClassVar[ReportWords] = ReportWords(
        headline="macro_f1",
        second="accuracy",
        columns=("accuracy", "macro_f1", "format_compliance"),
        paired=("macro_f1",),
        compliant="format-compliant",
        compliance_means="in the exact answer format",
        intervals="Wilson for accuracy and format compliance, bootstrap for macro-F1",
    )
    failure_modes: ClassVar[dict[str, FailureMode]] = {
        "empty": EMPTY,
        "overlong": OVERLONG,
        "invalid": FailureMode("invalid format", "no label could be read"),
        "wrong_label": FailureMode("wrong label", "a label was read, and it is wrong"),
        "format_only": FailureMode("label right, format wrong", "correct for accuracy, but not format-compliant"),
    }
    problems_title: ClassVar[str] = "most confused (gold → predicted)"
    breakdowns: ClassVar[tuple[str, ...]] = ("invalid_rate", "per_class", "confusion")
    hub_task: ClassVar[tuple[str, str]] = ("text-classification", "Text classification")

    @classmethod
    def from_spec(cls, spec: ClassificationTask) -> "ClassificationTaskRules":
        return cls(labels=tuple(spec.labels), answer_format=spec.answer_format)

    # ------------------------------------------------------------------------- reading one output
    @cached_property
    def _alternatives(self) -> str:
        # Longest first, so "sale" never shadows "sale_of_goods".
        return "|".join(re.escape(label) for label in sorted(self.labels, key=len, reverse=True))

    @cached_property
    def _strict(self) -> re.Pattern:
        before, after = self.answer_format.split("{label}")
        return re.compile(f"{re.escape(before)}({self._alternatives}){re.escape(after)}")

    @cached_property
    def _lenient(self) -> re.Pattern:
        before = self.answer_format.split("{label}")[0].strip()
        prefix = re.escape(before) + r"\s*" if before else ""
        return re.compile(f"{prefix}({self._alternatives})(?![A-Za-z0-9_])", re.IGNORECASE)

    @cached_property
    def _lone_label(self) -> re.Pattern:
        return re.compile(f"(?<![A-Za-z0-9_])({self._alternatives})(?![A-Za-z0-9_])", re.IGNORECASE)

    @property
    def single_line_answers(self) -> bool:
        """A well-formed answer is one line unless the answer format or a label spans lines."""
        return not any("\n" in text for text in (self.answer_format, *self.labels))

    def label_of(self, answer: str) -> str | None:
        match = self._strict.fullmatch(answer.strip())
        return match.group(1) if match else None

    def parse(self, output: str) -> Parsed:
        """The label, or None when no valid label could be read."""
        text = output.strip()
        strict = self._strict.fullmatch(text)
        if strict:
            return Parsed(answer=strict.group(1), format_ok=True)
        match = self._lenient.search(text) or self._lone_label.search(text)
        label = self._canonical(match.group(1)) if match else None
        return Parsed(answer=label, format_ok=False)

    def _canonical(self, found: str) -> str:
        lowered = {label.lower(): label for label in self.labels}
        return lowered[found.lower()]

    def check_gold(self, answer: str) -> str | None:
        return (
            None
            if self.label_of(answer) is not None
            else f"answer {answer!r} is not in the expected form {self.describe_answer()}"
        )

    def describe_answer(self) -> str:
        return f"'{self.answer_format}' with label one of {list(self.labels)}"

    def answer_for(self, value) -> str:
        """A table's label cell as the gold answer: the answer format filled with it."""
        return self.answer_format.replace("{label}", str(value).strip())

    # ------------------------------------------------------------------------- scoring
    def score(self, output: str, item) -> dict:
        parsed = self.parse(output)
        return {
            "parsed": parsed.answer,
            "gold": item.label,
            "correct": parsed.answer == item.label,
            "format_ok": parsed.format_ok,
        }

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        metrics = score_classification(
            [r["gold"] for r in rows],
            [r["parsed"] for r in rows],
            [r["format_ok"] for r in rows],
            self.labels,
            seed=seed,
        )
        # Calibration only when every answer carries a confidence: a partial set would score another sample.
        if rows and all(r.get("confidence") is not None for r in rows):
            metrics["calibration"] = calibration.calibration_metrics(
                [r["confidence"] for r in rows], [bool(r["correct"]) for r in rows], seed=seed
            )
        return metrics

    # ------------------------------------------------------------------------- report and model card
    @staticmethod
    def confusion(row: dict) -> tuple[str, str] | None:
        gold, parsed = row.get("gold"), row.get("parsed")
        return (gold, parsed) if isinstance(gold, str) and isinstance(parsed, str) else None

    @staticmethod
    def reading(row: dict) -> str:
        return row["parsed"] if row.get("parsed") is not None else "no valid label"

    @staticmethod
    def risks(metrics: dict, n: int) -> list[str]:
        risks = []
        invalid = round(metrics["invalid_rate"]["value"] * n)
        if invalid:
            risks.append(
                f"{invalid} of {n} test outputs named no valid label; a downstream parser gets nothing usable from them."
            )
        malformed = n - round(metrics["format_compliance"]["value"] * n)
        if malformed:
            risks.append(
                f"{malformed} of {n} outputs were not exactly in the answer format; parse leniently or constrain decoding."
            )
        confusion = metrics.get("confusion") or {}
        columns, matrix = confusion.get("labels", []), confusion.get("matrix", [])
        mixups = sorted(
            (
                (count, columns[i], columns[j])
                for i, row in enumerate(matrix)
                for j, count in enumerate(row)
                if i != j and count and columns[j] != INVALID
            ),
            reverse=True,
        )
        for count, gold, predicted in mixups[:3]:
            risks.append(f"'{gold}' was answered as '{predicted}' {count} time(s).")
        label, row = weakest(metrics.get("per_class"), "recall")
        if row and row["recall"] < metrics["accuracy"]["value"]:
            risks.append(f"Recall is lowest on '{label}': {row['recall']:.2f} over {row['support']} test item(s).")
        return risks

    @staticmethod
    def scope_note(task: dict, record: dict) -> str:
        return f"Only the labels {task['labels']} exist for this model; inputs that fit none were not studied."


def score_classification(
    gold: Sequence[str],
    predicted: Sequence[str | None],
    format_ok: Sequence[bool],
    labels: Sequence[str],
    *,
    seed: int = 0,
) -> dict:
    """Accuracy, macro-F1, format compliance, invalid rate (each with a 95% interval), per class, confusion."""
    gold_arr = np.asarray(gold, dtype=object)
    pred_arr = np.asarray([p if p is not None else INVALID for p in predicted], dtype=object)
    n = len(gold_arr)
    correct = int((gold_arr == pred_arr).sum())
    valid = int((pred_arr != INVALID).sum())
    label_list = list(labels)

    precision, recall, f1, support = precision_recall_fscore_support(
        gold_arr, pred_arr, labels=label_list, zero_division=0
    )
    columns = label_list + [INVALID]
    matrix = confusion_matrix(gold_arr, pred_arr, labels=columns) if n else np.zeros((len(columns),) * 2, int)
    return {
        "accuracy": intervals.proportion(correct, n),
        # as additive parts: the same resamples and values as sklearn's f1_score per resample, in one matrix product
        "macro_f1": intervals.resampled(
            additive.macro_f1_parts(gold, predicted, label_list), additive.macro_f1_from_sums, seed=seed
        ),
        "format_compliance": intervals.proportion(int(np.sum(format_ok)), n),
        "invalid_rate": intervals.proportion(n - valid, n),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(label_list, precision, recall, f1, support)
        },
        # rows: gold labels (the invalid row stays empty); columns: predictions incl. <invalid>
        "confusion": {"labels": columns, "matrix": matrix[: len(label_list)].tolist()},
    }
