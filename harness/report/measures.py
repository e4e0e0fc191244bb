"""What the report shows for each task type: its headline metric, the metrics beside it, and their names.

Every task type writes ``accuracy`` (the per-item ``correct`` flag) and
``format_compliance`` (``format_ok``); what else it writes, and which metric
ranks the variants, differs:

    classification  macro-F1 ranks; accuracy beside it; the exact answer format
    extraction      field F1 (micro) ranks; whole-record exact match, JSON parse rate beside it; the schema
    generation      the pass rate ranks (well-formed and ROUGE-L at the suite's mark); ROUGE-L, chrF beside it;
                    the suite's constraints

The view, the plots, the recommendation and the Markdown summary read the
names from here, so a new task type is one more entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    key: str  # the metric's key in results.json
    label: str  # how the page names it
    shown_as: str = "interval"  # interval: value and its 95% interval; share: a percentage


@dataclass(frozen=True)
class TaskMeasures:
    type: str
    headline: Measure  # ranks the variants: table order, Pareto front, recommendation
    second: Measure  # beside the headline in the interval plot, the rank curve and the evidence
    compliance: Measure  # format_compliance under the task's own name
    columns: tuple[Measure, ...]  # the variant table, in order
    paired: tuple[str, ...]  # metrics with a paired bootstrap delta against the base model; the headline first
    compliant: str  # the adjective: "format-compliant"
    compliance_means: str  # what a compliant output is, for a caveat: "in the exact answer format"
    intervals: str  # which interval each metric carries, for the table's lead


_ACCURACY = Measure("accuracy", "accuracy")
_MACRO_F1 = Measure("macro_f1", "macro-F1")
_FORMAT = Measure("format_compliance", "format compliance", "share")
_FIELD_F1 = Measure("field_f1_micro", "field F1 (micro)")
_EXACT = Measure("accuracy", "record exact match")
_SCHEMA = Measure("format_compliance", "schema compliance", "share")
_PASS = Measure("accuracy", "pass rate")
_ROUGE = Measure("rouge_l", "ROUGE-L")
_CONSTRAINTS = Measure("format_compliance", "constraint compliance", "share")

TASKS = {
    "classification": TaskMeasures(
        type="classification", headline=_MACRO_F1, second=_ACCURACY, compliance=_FORMAT,
        columns=(_ACCURACY, _MACRO_F1, _FORMAT), paired=("macro_f1",),
        compliant="format-compliant", compliance_means="in the exact answer format",
        intervals="Wilson for accuracy and format compliance, bootstrap for macro-F1"),
    "extraction": TaskMeasures(
        type="extraction", headline=_FIELD_F1, second=_EXACT, compliance=_SCHEMA,
        columns=(_FIELD_F1, Measure("field_f1_macro", "field F1 (macro)"), _EXACT,
                 Measure("parse_rate", "JSON parse rate", "share"), _SCHEMA),
        paired=("field_f1_micro",), compliant="schema-compliant",
        compliance_means="one JSON object that fits the suite's schema",
        intervals="bootstrap for field F1, Wilson for record exact match, parse rate and schema compliance"),
    "generation": TaskMeasures(
        type="generation", headline=_PASS, second=_ROUGE, compliance=_CONSTRAINTS,
        columns=(_PASS, _ROUGE, Measure("chrf", "chrF"), _CONSTRAINTS), paired=("accuracy", "rouge_l", "chrf"),
        compliant="constraint-compliant", compliance_means="within every constraint of the suite",
        intervals="Wilson for the pass rate and constraint compliance, bootstrap for ROUGE-L and chrF"),
}


def measures_for(task_type: str | None) -> TaskMeasures:
    """The task type's measures; runs that predate task types are classification."""
    return TASKS.get(task_type or "classification", TASKS["classification"])


def label_of(task: TaskMeasures, key: str) -> str:
    return next((m.label for m in task.columns if m.key == key), key)
