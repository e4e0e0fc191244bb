"""Task types: what a well-formed answer is, and how to read one.

A task turns the suite's task section into two pure functions used everywhere:
``label_of(gold_answer)`` for checking data, and ``parse(model_output)`` for
scoring. Metrics over many items live in ``harness.scoring``.
"""

from __future__ import annotations

from typing import Protocol

from harness.tasks.classification import ClassificationTaskRules, Parsed


class Task(Protocol):
    needs_label: bool  # classification: every gold answer names one label

    def label_of(self, answer: str) -> str | None: ...

    def check_gold(self, answer: str) -> str | None:
        """Why a gold answer is malformed, or None when it is fine."""

    def describe_answer(self) -> str: ...

    def score(self, output: str, item) -> dict:
        """One item's row: parsed, gold, correct, format_ok, and the task's own details."""

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        """Metrics over rows; 'accuracy' and 'format_compliance' exist for every task."""


def task_from_spec(spec) -> Task:
    if spec.type == "classification":
        return ClassificationTaskRules(labels=tuple(spec.labels), answer_format=spec.answer_format)
    if spec.type == "extraction":
        from harness.tasks.extraction import ExtractionTaskRules

        return ExtractionTaskRules(schema=spec.json_schema, case_insensitive=spec.normalise.case_insensitive,
                                   collapse_whitespace=spec.normalise.collapse_whitespace)
    if spec.type == "generation":
        from harness.scoring.generation import Constraints
        from harness.tasks.generation import GenerationTaskRules

        c = spec.constraints
        constraints = Constraints(max_words=c.max_words, min_words=c.min_words, regex=c.regex,
                                  required_phrases=tuple(c.required_phrases),
                                  forbidden_phrases=tuple(c.forbidden_phrases), keep_numbers=c.keep_numbers)
        return GenerationTaskRules(constraints=constraints, min_rouge_l=spec.min_rouge_l)
    raise ValueError(f"unsupported task type {spec.type!r}")


__all__ = ["Task", "Parsed", "task_from_spec", "ClassificationTaskRules"]
