"""bench's nested records as a tracker's flat keys: params (strings) and metrics (numbers).

Pure functions, no tracker imported, so they are tested without one. The limits
are MLflow's (mlflow/utils/validation.py): a key at most 250 characters of
letters, digits and ``_ - . / :`` and spaces, a param value at most 6,000
characters. Keys are cleaned and values cut here, so a long system prompt or an
odd label never makes the store refuse a whole batch.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterable, Iterator

MAX_KEY_LENGTH = 250
MAX_PARAM_LENGTH = 6000
_NOT_IN_KEY = re.compile(r"[^\w./\- ]")  # MLflow allows ':' too, except on Windows: left out for every store


def clean_key(key: str) -> str:
    """A key MLflow accepts: other characters become '_', no empty or '..' part, at most 250 characters."""
    parts = [_NOT_IN_KEY.sub("_", part) or "_" for part in str(key).split("/")]
    parts = ["_" if part in (".", "..") else part for part in parts]
    return "/".join(parts)[:MAX_KEY_LENGTH]


def param_value(value: Any) -> str:
    """Text as it is, everything else as JSON (true, null, [..]); cut to MLflow's limit with a visible ellipsis."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_PARAM_LENGTH else text[: MAX_PARAM_LENGTH - 1] + "…"


def flat_params(tree: dict, prefix: str = "", *, drop_none: bool = False) -> dict[str, str]:
    """Nested mappings as dotted keys (``training.learning_rate``); lists stay whole, as JSON.

    ``drop_none``: leave out unset keys (a variant's overrides, where null means "the suite's default").
    """
    out: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_params(value, f"{name}.", drop_none=drop_none))
        elif value is None and drop_none:
            continue
        else:
            out.setdefault(clean_key(name), param_value(value))
    return out


def is_number(value: Any) -> bool:
    """A finite int or float; bools and NaN are not metrics here."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def flat_metrics(tree: dict, prefix: str = "") -> dict[str, float]:
    """Every number in a metrics tree, with each interval as three keys: ``accuracy``, ``accuracy_lo``, ``accuracy_hi``.

    An interval record is a mapping with a numeric ``value`` ({value, ci_low, ci_high, n, method}): its bounds
    become ``_lo`` and ``_hi``, its ``n`` and method stay in results.json. Other mappings (per-class scores,
    calibration) are walked; lists (confusion matrices, curves) are left to results.json, logged whole.
    """
    out: dict[str, float] = {}
    for key, value in tree.items():
        name = clean_key(f"{prefix}{key}")
        if isinstance(value, dict):
            if is_number(value.get("value")):
                out[name] = float(value["value"])
                for bound, suffix in (("ci_low", "_lo"), ("ci_high", "_hi")):
                    if is_number(value.get(bound)):
                        out[clean_key(name + suffix)] = float(value[bound])
            else:
                out.update(flat_metrics(value, f"{name}."))
        elif is_number(value):
            out[name] = float(value)
    return out


def probe_metrics(probes: dict[str, dict]) -> dict[str, float]:
    """Per forgetting probe: the variant's score, the base's, and the change with its interval bounds."""
    out: dict[str, float] = {}
    for task, entry in probes.items():
        for key, suffix in (("score", "score"), ("base", "base"), ("delta", "delta"), ("ci_low", "delta_lo")):
            if is_number(entry.get(key)):
                out[clean_key(f"probe.{task}.{suffix}")] = float(entry[key])
        if is_number(entry.get("ci_high")):
            out[clean_key(f"probe.{task}.delta_hi")] = float(entry["ci_high"])
    return out


def curve_points(training: dict) -> Iterator[tuple[str, int, float]]:
    """(key, step, value) per logged training step: ``train_loss``; ``validation_loss``, ``validation_accuracy``."""
    for point in training.get("loss_curve") or []:
        if is_number(point.get("loss")) and is_number(point.get("step")):
            yield "train_loss", int(point["step"]), float(point["loss"])
    for point in training.get("eval_curve") or []:
        if not is_number(point.get("step")):
            continue
        for key, value in point.items():
            if key != "step" and is_number(value):
                # eval_loss -> validation_loss: the split it was measured on, as the report names it
                yield clean_key("validation_" + key.removeprefix("eval_")), int(point["step"]), float(value)


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """Batches of at most ``size``: MLflow takes at most 100 params and 1,000 metrics in one request."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
