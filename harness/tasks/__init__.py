"""Task types: one file each, holding everything about the type (see base.py).

    task = task_from_spec(suite.spec.task)     # the rules for one suite: parse, score, aggregate
    task_type("extraction").metrics            # its metrics, declared once
    measures_for("generation")                 # the words the report, summary and card use

The built-in types register themselves on import; a type defined elsewhere
registers with ``@register_task_type`` (tests/test_custom_task_type.py).
"""

from __future__ import annotations

from harness.tasks.base import (
    FailureMode,
    Measures,
    Metric,
    Parsed,
    ReportWords,
    Task,
    TaskCommon,
    TaskType,
    measures_for,
    metric_keys,
    register_task_type,
    task_from_spec,
    task_spec_classes,
    task_type,
    task_types,
    unregister_task_type,
)
from harness.tasks.classification import ClassificationTaskRules
from harness.tasks.extraction import ExtractionTaskRules
from harness.tasks.generation import GenerationTaskRules

__all__ = [
    "Task",
    "TaskType",
    "TaskCommon",
    "Parsed",
    "Metric",
    "ReportWords",
    "FailureMode",
    "Measures",
    "register_task_type",
    "task_type",
    "task_types",
    "task_from_spec",
    "task_spec_classes",
    "measures_for",
    "metric_keys",
    "unregister_task_type",
    "ClassificationTaskRules",
    "ExtractionTaskRules",
    "GenerationTaskRules",
]
