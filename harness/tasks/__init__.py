"""Task types: what a well-formed answer is, and how to read one.

A task turns the suite's task section into two pure functions used everywhere:
``label_of(gold_answer)`` for checking data, and ``parse(model_output)`` for
scoring. Metrics over many items live in ``harness.scoring``.
"""

from __future__ import annotations

from typing import Protocol

from harness.tasks.classification import ClassificationTaskRules, Parsed


class Task(Protocol):
    needs_label: bool

    def label_of(self, answer: str) -> str | None: ...

    def parse(self, output: str) -> Parsed: ...

    def describe_answer(self) -> str: ...


def task_from_spec(spec) -> Task:
    if spec.type == "classification":
        return ClassificationTaskRules(labels=tuple(spec.labels), answer_format=spec.answer_format)
    raise ValueError(f"unsupported task type {spec.type!r}")


__all__ = ["Task", "Parsed", "task_from_spec", "ClassificationTaskRules"]
