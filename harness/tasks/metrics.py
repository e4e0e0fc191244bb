"""Every declared metric, computed from per-item rows, so paired tests can resample items.

Read from the task types' declarations (``Metric.combine``):
- **share**: one yes/no per item (``item_field``), the metric their share:
  accuracy (``correct``), format compliance (``format_ok``), parse rate
  (``parse_ok``). Exact paired tests apply (McNemar, Tango).
- **mean**: the mean of a number per item (ROUGE-L, chrF).
- **a parts function**: the metric is ``combine(weights @ parts)`` of per-item
  parts summed over items: macro-F1 of labels, field F1 of per-field counts.

A bootstrap resample is a row of weights and a permutation a swap mask, both one
matrix product. The gate's rules and the report's paired comparisons both read
these parts, so their deltas agree on what a metric is.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.core.errors import BenchError
from harness.stats import additive
from harness.tasks.base import metric as declared


def is_binary(metric: str) -> bool:
    return declared(metric).binary


def require_rows(metric: str, rows: Sequence[dict], where: str) -> None:
    """A typed error, naming the missing per-item key, instead of a KeyError deep in a test."""
    key = declared(metric).item_field
    if key in ("gold", "parsed"):
        return  # every row has them; a None answer is an unreadable output, not a missing field
    # A parts function reads its own field's None (a judge reply that could not be read): only absence is missing.
    absent = (lambda row: key not in row) if callable(declared(metric).combine) else (lambda row: row.get(key) is None)
    if any(absent(row) for row in rows):
        raise BenchError(
            f"{where} has per-item rows without '{key}', which {metric} is computed from",
            hint="save the baseline again (bench baseline save RUN_DIR --variant NAME) "
            "from a run made with this version of bench",
        )


def outcome(metric: str, rows: Sequence[dict]) -> np.ndarray:
    """Per-item yes/no of a share metric."""
    m = declared(metric)
    if not m.binary:
        raise ValueError(f"{metric} is not a share of items")
    return np.array([bool(row.get(m.item_field)) for row in rows], dtype=bool)


def parts(metric: str, rows: Sequence[dict], labels: Sequence[str] = ()) -> tuple[np.ndarray, additive.Combine]:
    """(items x m parts, combine) with ``combine(parts.sum(0, keepdims=True))[0]`` the metric on all items."""
    m = declared(metric)
    if m.combine == "share":
        return additive.mean_parts(outcome(metric, rows).astype(float)), additive.mean_from_sums
    if m.combine == "mean":
        return additive.mean_parts([float(row[m.item_field]) for row in rows]), additive.mean_from_sums
    return m.combine(rows, labels)
