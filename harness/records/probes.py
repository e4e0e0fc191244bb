"""The forgetting probes of a run (results.json ``probes``), read for display: the report and the model card.

``bench run`` writes ``{task: {metric, base, status, reason, variants: {variant:
{score, delta, ci_low, ci_high, verdict, n, adapter_applied}}}}``. Readers also
accept the looser shapes earlier runs and hand-made records used (docs/report.md),
and show anything else verbatim rather than guess at it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass
class ProbeScores:
    task: str
    metric: str | None
    base: float | None
    deltas: dict[str, dict]  # variant -> {delta, ci_low, ci_high, value}


def read_probes(raw) -> tuple[list[ProbeScores], str | None]:
    """Probe scores and forgetting deltas, and the raw table as JSON text when it has a shape this does not know.

    Accepted: ``{task: {metric?, base: number | {value|score}, variants|deltas: {variant: number | {delta, ci_low, ci_high, value?}}}}``,
    optionally wrapped in ``{"tasks": ...}``, or a list of such entries each with a ``task`` key.
    """
    if not raw:
        return [], None
    if isinstance(raw, dict) and isinstance(raw.get("tasks"), (dict, list)):
        raw = raw["tasks"]
    if isinstance(raw, dict):
        entries = list(raw.items())
    elif isinstance(raw, list):
        entries = [(e.get("task"), e) for e in raw if isinstance(e, dict)]
    else:
        entries = []
    probes = []
    for task, entry in entries:
        if not isinstance(entry, dict) or not task:
            continue
        per_variant = entry.get("variants") or entry.get("deltas")
        if not isinstance(per_variant, dict):
            continue
        deltas = {}
        for variant, value in per_variant.items():
            if isinstance(value, (int, float)):
                deltas[variant] = {"delta": float(value), "ci_low": None, "ci_high": None, "value": None}
            elif isinstance(value, dict):
                deltas[variant] = {
                    "delta": _number(value, "delta"),
                    "ci_low": _number(value, "ci_low"),
                    "ci_high": _number(value, "ci_high"),
                    "value": _number(value, "score", "value", "variant"),
                }
        probes.append(
            ProbeScores(task=str(task), metric=entry.get("metric"), base=_score(entry.get("base")), deltas=deltas)
        )
    if not probes:
        return [], json.dumps(raw, indent=2, default=str)
    return probes, None


def forgetting_of(raw, variant: str) -> list[dict] | None:
    """One variant's probe rows: {task, metric, base, delta, ci_low, ci_high, value}; None when no probe scored it."""
    probes, _ = read_probes(raw)
    rows = [
        {"task": p.task, "metric": p.metric, "base": p.base, **p.deltas[variant]} for p in probes if variant in p.deltas
    ]
    return rows or None


def _score(value) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return _number(value, "value", "score")
    return None


def _number(d: dict, *keys: str) -> float | None:
    for key in keys:
        if isinstance(d.get(key), (int, float)):
            return float(d[key])
    return None
