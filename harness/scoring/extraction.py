"""Extraction metrics: JSON parse rate, schema compliance, field-level F1, exact records.

Field values are compared after the suite's normalisation (case, whitespace).
A list-valued field is compared as a set of values: each predicted value found
in the gold list is a true positive, each extra one a false positive, each
missing one a false negative. A scalar field is one value (absent/null: none).
Micro F1 pools the counts of every field; macro F1 averages the per-field F1s.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from harness.stats import intervals


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
    for field in fields:
        p, g = field_values(predicted, field, **norm), field_values(gold, field, **norm)
        counts[field] = (len(p & g), len(p - g), len(g - p))
    return counts


def f1(tp: int, fp: int, fn: int) -> float:
    # A field empty in both gold and prediction is perfectly right, not undefined.
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def score_extraction(rows: Sequence[dict], fields: Sequence[str], *, seed: int) -> dict:
    """``rows``: per-item dicts with parse_ok, schema_ok, correct and field_counts {field: [tp, fp, fn]}."""
    n = len(rows)
    counts = np.array([[r["field_counts"][f] for f in fields] for r in rows], dtype=float).reshape(n, len(fields), 3)

    def micro(idx: np.ndarray) -> float:
        tp, fp, fn = counts[idx].sum(axis=(0, 1))
        return f1(tp, fp, fn)

    def macro(idx: np.ndarray) -> float:
        per_field = counts[idx].sum(axis=0)
        return float(np.mean([f1(*c) for c in per_field]))

    per_field = {}
    for index, field in enumerate(fields):
        tp, fp, fn = counts[:, index].sum(axis=0)
        exact = sum(1 for r in rows if r["field_counts"][field][1] == r["field_counts"][field][2] == 0)
        per_field[field] = {"f1": f1(tp, fp, fn), "exact_match": intervals.proportion(exact, n),
                            "tp": int(tp), "fp": int(fp), "fn": int(fn)}
    return {
        "accuracy": intervals.proportion(sum(r["correct"] for r in rows), n),  # whole-record exact match
        "parse_rate": intervals.proportion(sum(r["parse_ok"] for r in rows), n),
        "format_compliance": intervals.proportion(sum(r["format_ok"] for r in rows), n),  # parses and fits the schema
        "field_f1_micro": intervals.bootstrap(micro, n, seed=seed),
        "field_f1_macro": intervals.bootstrap(macro, n, seed=seed),
        "per_field": per_field,
    }
