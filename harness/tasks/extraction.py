"""Extraction answers: one JSON object that fits the suite's JSON Schema.

format_ok: the whole output (trimmed, optionally inside a ```json fence) parses
as JSON and validates against the schema. For content, the first JSON object in
the output is read even when extra text surrounds it, so content errors and
format errors are counted apart. correct: every field matches after
normalisation (whole-record exact match).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness.core.errors import require
from harness.scoring.extraction import field_counts, score_extraction

FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass(frozen=True)
class ExtractionTaskRules:
    schema: dict
    case_insensitive: bool = True
    collapse_whitespace: bool = True
    needs_label: bool = False
    fields: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not self.fields:
            object.__setattr__(self, "fields", tuple(self.schema.get("properties", {})))

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

    def score(self, output: str, item) -> dict:
        gold = json.loads(item.answer)
        record, parse_ok, schema_ok = self.read(output)
        counts = field_counts(record, gold, self.fields, **self._norm)
        wrong = sorted(f for f, (_, fp, fn) in counts.items() if fp or fn)
        return {"parsed": record, "gold": gold, "format_ok": schema_ok, "parse_ok": parse_ok,
                "correct": record is not None and not wrong, "wrong_fields": wrong,
                "field_counts": {f: list(c) for f, c in counts.items()}}

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        return score_extraction(rows, self.fields, seed=seed)


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
