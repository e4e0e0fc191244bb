"""Extraction: the answer is one JSON object that fits the suite's JSON Schema.

format_ok: the whole output (trimmed, optionally inside a ```json fence) parses
as JSON and validates against the schema. For content, the first JSON object in
the output is read even when extra text surrounds it, so content errors and
format errors are counted apart. correct: every field matches after
normalisation (whole-record exact match).

Metrics: JSON parse rate, schema compliance, field-level F1 (ranks the
variants), exact records. Field values are compared after the suite's
normalisation (case, whitespace). A list-valued field is compared as a set of
values: each predicted value found in the gold list is a true positive, each
extra one a false positive, each missing one a false negative. A scalar field
is one value (absent/null: none). Micro F1 pools the counts of every field;
macro F1 averages the per-field F1s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field, field_validator

from harness.core.config import Strict
from harness.core.errors import require
from harness.stats import intervals
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

FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class Normalisation(Strict):
    case_insensitive: bool = True
    collapse_whitespace: bool = True


class ExtractionTask(TaskCommon):
    type: Literal["extraction"]
    json_schema: dict[str, Any] = Field(description="JSON Schema every answer must fit (type: object, properties: ...)")
    normalise: Normalisation = Normalisation()

    @field_validator("json_schema")
    @classmethod
    def schema_is_an_object_schema(cls, schema: dict) -> dict:
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict) or not schema["properties"]:
            raise ValueError("json_schema must describe an object: type: object with properties")
        try:
            import jsonschema

            jsonschema.validators.validator_for(schema).check_schema(schema)
        except ImportError:
            pass  # checked again, with an install hint, when the task is built
        except Exception as exc:  # jsonschema.SchemaError
            raise ValueError(f"not a valid JSON Schema: {getattr(exc, 'message', exc)}") from None
        return schema


# ----------------------------------------------------------------------------- field F1 as per-item parts
def field_counts_matrix(rows: Sequence[dict]) -> np.ndarray:
    """Per item, per field (in the first row's order): [true positives, false positives, false negatives]."""
    if not rows:
        return np.zeros((0, 0, 3))
    fields = list(rows[0]["field_counts"])
    return np.array([[row["field_counts"].get(f, (0, 0, 0)) for f in fields] for row in rows], dtype=float)


def field_f1_from_sums(sums: np.ndarray) -> np.ndarray:
    """Mean F1 over the field columns of summed [tp..., 2tp + fp + fn...]; one column pair is micro F1.

    A field empty in gold and prediction alike scores 1, as ``f1`` below.
    """
    k = sums.shape[1] // 2
    true_pos, denominator = sums[:, :k], sums[:, k:]
    f1 = np.divide(2 * true_pos, denominator, out=np.ones_like(true_pos), where=denominator > 0)
    return f1.mean(axis=1)


def _per_field_parts(rows: Sequence[dict]) -> np.ndarray:
    counts = field_counts_matrix(rows)  # items x fields x (tp, fp, fn)
    return np.concatenate([counts[:, :, 0], 2 * counts[:, :, 0] + counts[:, :, 1] + counts[:, :, 2]], axis=1)


def field_f1_micro_parts(rows: Sequence[dict], labels: Sequence[str] = ()):
    return _per_field_parts(rows).reshape(len(rows), 2, -1).sum(axis=2), field_f1_from_sums


def field_f1_macro_parts(rows: Sequence[dict], labels: Sequence[str] = ()):
    return _per_field_parts(rows), field_f1_from_sums


# ----------------------------------------------------------------------------- the task type
@register_task_type
@dataclass(frozen=True)
class ExtractionTaskRules(TaskType):
    schema: dict
    case_insensitive: bool = True
    collapse_whitespace: bool = True
    fields: tuple[str, ...] = field(default=())

    name: ClassVar[str] = "extraction"
    Spec: ClassVar[type] = ExtractionTask
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("accuracy", "record exact match", "correct", means="whole-record exact match"),
        Metric(
            "field_f1_micro",
            "field F1 (micro)",
            "field_counts",
            combine=field_f1_micro_parts,
            gate_default=True,
            hub_type="f1",
            hub_args={"average": "micro"},
        ),
        Metric(
            "field_f1_macro",
            "field F1 (macro)",
            "field_counts",
            combine=field_f1_macro_parts,
            hub_type="f1",
            hub_args={"average": "macro"},
        ),
        Metric("parse_rate", "JSON parse rate", "parse_ok", shown_as="share", means="output is one JSON value"),
        Metric(
            "format_compliance",
            "schema compliance",
            "format_ok",
            gate_default=True,
            shown_as="share",
            means="JSON fitting the schema",
        ),
    )
    words: ClassVar[ReportWords] = ReportWords(
        headline="field_f1_micro",
        second="accuracy",
        columns=("field_f1_micro", "field_f1_macro", "accuracy", "parse_rate", "format_compliance"),
        paired=("field_f1_micro",),
        compliant="schema-compliant",
        compliance_means="one JSON object that fits the suite's schema",
        intervals="bootstrap for field F1, Wilson for record exact match, parse rate and schema compliance",
    )
    failure_modes: ClassVar[dict[str, FailureMode]] = {
        "empty": EMPTY,
        "overlong": OVERLONG,
        "invalid": FailureMode("no JSON object", "no JSON object could be read from the output"),
        "wrong_label": FailureMode("wrong fields", "a record was read, and at least one field is wrong"),
        "format_only": FailureMode(
            "fields right, schema broken", "every field right, but not one JSON object that fits the schema"
        ),
    }
    problems_title: ClassVar[str] = "fields most often wrong"
    breakdowns: ClassVar[tuple[str, ...]] = ("per_field",)
    hub_task: ClassVar[tuple[str, str]] = ("token-classification", "Information extraction (JSON records)")

    def __post_init__(self):
        if not self.fields:
            object.__setattr__(self, "fields", tuple(self.schema.get("properties", {})))

    @classmethod
    def from_spec(cls, spec: ExtractionTask) -> "ExtractionTaskRules":
        return cls(
            schema=spec.json_schema,
            case_insensitive=spec.normalise.case_insensitive,
            collapse_whitespace=spec.normalise.collapse_whitespace,
        )

    @cached_property
    def _validator(self):
        jsonschema = require("jsonschema", feature="extraction tasks")
        cls = jsonschema.validators.validator_for(self.schema)
        cls.check_schema(self.schema)
        return cls(self.schema)

    @property
    def _norm(self) -> dict:
        return {"case": self.case_insensitive, "whitespace": self.collapse_whitespace}

    def label_of(self, answer: str) -> None:
        return None

    def describe_answer(self) -> str:
        return f"a JSON object with fields {list(self.fields)} that fits the suite's schema"

    def check_gold(self, answer: str) -> str | None:
        try:
            value = json.loads(answer)
        except json.JSONDecodeError as exc:
            return f"gold answer is not valid JSON ({exc.msg} at column {exc.colno})"
        errors = sorted(self._validator.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "(root)"
            return f"gold answer does not fit the schema at {where}: {errors[0].message}"
        return None

    # ------------------------------------------------------------------------- reading one output
    def read(self, output: str) -> tuple[Any, bool, bool]:
        """(record or None, parsed as a whole, fits the schema)."""
        text = output.strip()
        fenced = FENCE.match(text)
        whole = fenced.group(1) if fenced else text
        try:
            value = json.loads(whole)
            whole_ok = True
        except json.JSONDecodeError:
            value, whole_ok = _first_object(text), False
        if not isinstance(value, dict):
            return None, False, False
        schema_ok = whole_ok and self._validator.is_valid(value)
        return value, whole_ok, schema_ok

    def parse(self, output: str) -> Parsed:
        """The record as the task compares it: each field's normalised values, as canonical JSON."""
        record, _, schema_ok = self.read(output)
        if record is None:
            return Parsed(answer=None, format_ok=False)
        values = {f: sorted(field_values(record, f, **self._norm)) for f in self.fields}
        return Parsed(answer=json.dumps(values, sort_keys=True, ensure_ascii=False), format_ok=schema_ok)

    # ------------------------------------------------------------------------- scoring
    def score(self, output: str, item) -> dict:
        gold = json.loads(item.answer)
        record, parse_ok, schema_ok = self.read(output)
        counts = field_counts(record, gold, self.fields, **self._norm)
        wrong = sorted(f for f, (_, fp, fn) in counts.items() if fp or fn)
        return {
            "parsed": record,
            "gold": gold,
            "format_ok": schema_ok,
            "parse_ok": parse_ok,
            "correct": record is not None and not wrong,
            "wrong_fields": wrong,
            "field_counts": {f: list(c) for f, c in counts.items()},
        }

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        return score_extraction(rows, self.fields, seed=seed)

    # ------------------------------------------------------------------------- report and model card
    @staticmethod
    def problems(row: dict) -> list[str]:
        return list(row.get("wrong_fields") or [])

    @staticmethod
    def reading(row: dict) -> str:
        if row.get("parsed") is None:
            return "no JSON object"
        form = (
            "fits the schema"
            if row.get("format_ok")
            else "a JSON object, but not one that fits the schema"
            if row.get("parse_ok")
            else "a JSON object inside other text"
        )
        wrong = row.get("wrong_fields") or []
        return f"{form} · " + (f"wrong: {', '.join(wrong)}" if wrong else "every field right")

    @staticmethod
    def risks(metrics: dict, n: int) -> list[str]:
        risks = []
        parsed = round(metrics["parse_rate"]["value"] * n)
        compliant = round(metrics["format_compliance"]["value"] * n)  # a subset of the parsed: the whole output is JSON
        if parsed < n:
            risks.append(f"{n - parsed} of {n} outputs did not parse as JSON; a program reading them gets no record.")
        if compliant < parsed:
            risks.append(
                f"{parsed - compliant} of {n} outputs parsed as JSON but broke the schema; validate them before use."
            )
        name, row = weakest(metrics.get("per_field"), "f1")
        if row and row["f1"] < metrics["field_f1_micro"]["value"]:
            risks.append(
                f"Field F1 is lowest on '{name}': {row['f1']:.2f} ({row['tp']} right, {row['fp']} extra, "
                f"{row['fn']} missed value(s))."
            )
        return risks

    @staticmethod
    def scope_note(task: dict, record: dict) -> str:
        return (
            f"Only records with the fields {list(task['json_schema']['properties'])} of the suite's JSON Schema were "
            "scored; other fields, other schemas and texts holding nothing to extract were not studied."
        )


def _first_object(text: str) -> Any:
    """The first decodable JSON object anywhere in ``text``."""
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        try:
            value, _ = decoder.raw_decode(text[start:])
            return value
        except json.JSONDecodeError:
            continue
    return None


# ----------------------------------------------------------------------------- field comparison and metrics
def normalise(value: Any, *, case: bool, whitespace: bool) -> str:
    text = value if isinstance(value, str) else repr(value)
    if whitespace:
        text = " ".join(text.split())
    if case:
        text = text.casefold()
    return text


def field_values(record: dict | None, field: str, **norm) -> set[str]:
    if not isinstance(record, dict):
        return set()
    value = record.get(field)
    if value is None:
        return set()
    values = value if isinstance(value, list) else [value]
    return {normalise(v, **norm) for v in values if v is not None and v != ""}


def field_counts(predicted: dict | None, gold: dict, fields: Sequence[str], **norm) -> dict[str, tuple[int, int, int]]:
    """Per field: (true positives, false positives, false negatives)."""
    counts = {}
    for name in fields:
        p, g = field_values(predicted, name, **norm), field_values(gold, name, **norm)
        counts[name] = (len(p & g), len(p - g), len(g - p))
    return counts


def f1(tp: int, fp: int, fn: int) -> float:
    # A field empty in both gold and prediction is perfectly right, not undefined.
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def score_extraction(rows: Sequence[dict], fields: Sequence[str], *, seed: int) -> dict:
    """``rows``: per-item dicts with parse_ok, format_ok, correct and field_counts {field: [tp, fp, fn]}."""
    n = len(rows)
    counts = np.array([[r["field_counts"][f] for f in fields] for r in rows], dtype=float).reshape(n, len(fields), 3)

    def micro(idx: np.ndarray) -> float:
        tp, fp, fn = counts[idx].sum(axis=(0, 1))
        return f1(tp, fp, fn)

    def macro(idx: np.ndarray) -> float:
        per_field = counts[idx].sum(axis=0)
        return float(np.mean([f1(*c) for c in per_field]))

    per_field = {}
    for index, name in enumerate(fields):
        tp, fp, fn = counts[:, index].sum(axis=0)
        exact = sum(1 for r in rows if r["field_counts"][name][1] == r["field_counts"][name][2] == 0)
        per_field[name] = {
            "f1": f1(tp, fp, fn),
            "exact_match": intervals.proportion(exact, n),
            "tp": int(tp),
            "fp": int(fp),
            "fn": int(fn),
        }
    return {
        "accuracy": intervals.proportion(sum(r["correct"] for r in rows), n),  # whole-record exact match
        "parse_rate": intervals.proportion(sum(r["parse_ok"] for r in rows), n),
        "format_compliance": intervals.proportion(sum(r["format_ok"] for r in rows), n),  # parses and fits the schema
        "field_f1_micro": intervals.bootstrap(micro, n, seed=seed),
        "field_f1_macro": intervals.bootstrap(macro, n, seed=seed),
        "per_field": per_field,
    }
