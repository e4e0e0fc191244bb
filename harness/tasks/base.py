"""What a task type is, and the registry that makes one known to every stage.

A task type is one file in this folder holding everything about it:

- its **spec**: the suite's ``task:`` section, a pydantic model on ``TaskCommon``
  whose ``type`` is a ``Literal`` of the type's name;
- its **rules** for one suite, built by ``from_spec``: ``parse`` and ``score``
  one output, ``aggregate`` the scored rows, and check gold answers (``Task``);
- its **metrics, declared once** (``Metric``): the gate's rules, paired tests
  and baselines, the report's columns and the model card read them from here;
- the **words** the report, the gate summary and the model card use for it:
  which metric ranks variants (``ReportWords``), its failure modes
  (``FailureMode``), its model-card risks and scope.

``@register_task_type`` on the class makes the type known: the suite schema
accepts its ``task:`` section, ``task_from_spec`` builds it, and the gate,
report and packaging read its declarations. A new task type is one new file
plus its tests (tests/test_custom_task_type.py defines one inside a test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import lru_cache
from typing import Any, Callable, ClassVar, Hashable, Literal, Mapping, Protocol, Sequence

import numpy as np
from pydantic import Field

from harness.core.config import Strict
from harness.core.errors import BenchError
from harness.tasks.data_spec import DataFiles, DataSource  # noqa: F401  (the data section lives in its own file)

# ----------------------------------------------------------------------------- the suite's task section


class TaskCommon(Strict):
    """What every task type's spec has: its data, its instructions, and how to slice and guard it.

    A task type's spec adds ``type: Literal["<name>"]`` and its own keys.
    """

    system_prompt: str = ""
    data: DataFiles
    test_limit: int | None = Field(default=None, ge=1, description="score only the first N test items")
    leakage: Literal["error", "warn"] = Field(
        default="error", description="what an item found in two splits (same content) does to a run"
    )


# ----------------------------------------------------------------------------- metrics, declared once

# Per-item parts of a metric and how their sums combine into it: (items x m parts, combine), with
# combine(parts.sum(0, keepdims=True))[0] the metric on all items (harness/tasks/metrics.py).
PartsFunction = Callable[[Sequence[dict], Sequence[str]], "tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]"]


@dataclass(frozen=True)
class Metric:
    """One metric a task type writes in results.json and a gate rule may name.

    The same key means one computation in every task type that declares it
    (``accuracy`` is the share of ``correct`` items everywhere); its label may
    differ ("accuracy", "record exact match", "pass rate").
    """

    key: str  # results.json key and the name gate rules use (floors.<key>, allowed_drop.<key>)
    label: str  # how the report, the summary and the model card name it
    item_field: str  # the per-item row field it is computed from (a baseline must keep it)
    # How per-item values combine: "share" (a yes/no per item; exact paired tests apply), "mean" (the mean
    # of a number per item), or a PartsFunction for anything else (macro-F1, field F1).
    combine: str | PartsFunction = "share"
    higher_is_better: bool = True  # every gate rule reads a drop as worse; a lower-is-better metric is not gated
    gate_default: bool = False  # without an allowed_drop: section, the gate checks any significant drop of it
    shown_as: Literal["interval", "share"] = "interval"  # report: value and its 95% interval, or a percentage
    means: str = ""  # what it measures, where the label alone does not say (gate summary, suite JSON Schema)
    hub_type: str | None = None  # the Hugging Face Hub's metric id for the model card (default: the key)
    hub_args: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    def __post_init__(self):
        if isinstance(self.combine, str) and self.combine not in ("share", "mean"):
            raise ValueError(
                f"metric {self.key}: combine must be 'share', 'mean' or a parts function, not {self.combine!r}"
            )

    @property
    def binary(self) -> bool:
        """A share of items: one yes/no per item."""
        return self.combine == "share"


@dataclass(frozen=True)
class ReportWords:
    """How the report, the summary and the model card speak of a task type: metric keys and wording."""

    headline: str  # ranks the variants: table order, Pareto front, recommendation
    second: str  # beside the headline in the interval plot, the rank curve and the evidence
    columns: tuple[str, ...]  # the variant table, in order
    paired: tuple[str, ...]  # metrics with a paired bootstrap delta against the base model; the headline first
    compliant: str  # the adjective: "format-compliant"
    compliance_means: str  # what a compliant output is, for a caveat: "in the exact answer format"
    intervals: str  # which interval each metric carries, for the table's lead
    compliance: str = "format_compliance"  # format compliance under the task's own name


@dataclass(frozen=True)
class Measures:
    """A task type's report words with its metric declarations filled in (what the report reads)."""

    type: str
    headline: Metric
    second: Metric
    compliance: Metric
    columns: tuple[Metric, ...]
    paired: tuple[str, ...]
    compliant: str
    compliance_means: str
    intervals: str
    labelled: bool  # answers are labels: label distributions and confusion pairs
    breakdowns: tuple[str, ...] = ()  # results.json keys beside the metrics: per_class, confusion, per_field, ...

    def label(self, key: str) -> str:
        return next((m.label for m in self.columns if m.key == key), key)


@dataclass(frozen=True)
class FailureMode:
    title: str  # short, for a table header
    help: str  # one clause the report's lead text explains it with; may hold {max_new_tokens} and the type's values


EMPTY = FailureMode("empty", "only whitespace came back")
OVERLONG = FailureMode("overlong", "used all {max_new_tokens} new tokens allowed without a well-formed answer")


# ----------------------------------------------------------------------------- one task, built from its spec
@dataclass(frozen=True)
class Parsed:
    """What a task reads from one output alone."""

    answer: Hashable | None  # the label, the record (canonical JSON), the text; None when nothing could be read
    format_ok: bool  # well-formed, as far as the output alone tells


class Task(Protocol):
    """One task type's rules for one suite: what loading, scoring and variability call."""

    needs_label: bool  # every gold answer names one label (label counts per split, leakage by label)
    # An answer is one line (a label; not a JSON record or free text): generation stops at the first newline
    # after some text and the answer is that line, not what a model rambles on with (model/generate.py).
    single_line_answers: bool

    def label_of(self, answer: str) -> str | None: ...

    def check_gold(self, answer: str) -> str | None:
        """Why a gold answer is malformed, or None when it is fine."""

    def describe_answer(self) -> str: ...

    def parse(self, output: str) -> Parsed:
        """The answer an output gives, read without its item: equal answers compare equal."""

    def score(self, output: str, item) -> dict:
        """One item's row: parsed, gold, correct, format_ok, and the fields its metrics are computed from."""

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        """Metrics over rows: every declared metric, with its 95% interval, and the type's breakdowns."""


class TaskType:
    """Base of a task type: class-level declarations, and defaults for the hooks the report and card call.

    A subclass is a frozen dataclass of one suite's rules (``from_spec``) and sets the ClassVars below.
    The hooks read only recorded rows and metrics, so the report and packaging can call them on a run folder.
    """

    name: ClassVar[str]
    Spec: ClassVar[type[TaskCommon]]
    metrics: ClassVar[
        tuple[Metric, ...]
    ]  # every metric it writes and a rule may name; accuracy and format_compliance first-class
    words: ClassVar[ReportWords]
    failure_modes: ClassVar[
        dict[str, FailureMode]
    ]  # in checking order; keys among empty, overlong, invalid, wrong_label, format_only
    failure_values: ClassVar[dict[str, str]] = {}  # placeholder -> shown when the run did not record it
    problems_title: ClassVar[str] = "most frequent problems"
    breakdowns: ClassVar[tuple[str, ...]] = ()  # results.json keys beside the metrics that the model card keeps
    hub_task: ClassVar[tuple[str, str]] = ("text-generation", "Text generation")  # the Hub's task id and name
    needs_label: ClassVar[bool] = False
    single_line_answers: ClassVar[bool] = False  # see Task; a type whose answers are one line says so

    @classmethod
    def from_spec(cls, spec: TaskCommon) -> "Task":
        raise NotImplementedError

    def answer_for(self, value: Any) -> str:
        """The gold answer for a table's label or target cell, as a chat line's assistant message would hold it.

        Text stays as it is; a mapping or list (a Parquet struct, a JSONL object) becomes JSON.
        """
        if isinstance(value, (dict, list)):
            import json

            return json.dumps(value, ensure_ascii=False)
        return str(value)

    @classmethod
    def measures(cls) -> Measures:
        by_key = {m.key: m for m in cls.metrics}
        w = cls.words
        return Measures(
            type=cls.name,
            headline=by_key[w.headline],
            second=by_key[w.second],
            compliance=by_key[w.compliance],
            columns=tuple(by_key[k] for k in w.columns),
            paired=w.paired,
            compliant=w.compliant,
            compliance_means=w.compliance_means,
            intervals=w.intervals,
            labelled=cls.needs_label,
            breakdowns=cls.breakdowns,
        )

    # --- failure modes (report)
    @staticmethod
    def unreadable(row: dict) -> bool:
        """Nothing could be read from the output (the ``invalid`` mode)."""
        return row.get("parsed") is None

    @staticmethod
    def problems(row: dict) -> list[str]:
        """The parts of one output that went wrong (wrong fields, broken constraints), for the report's tally."""
        return []

    @staticmethod
    def confusion(row: dict) -> tuple[str, str] | None:
        """(gold, predicted) when a wrong answer is a confusion of two labels."""
        return None

    @staticmethod
    def reading(row: dict) -> str:
        """What the task made of an output, in words."""
        parsed = row.get("parsed")
        return "nothing readable" if parsed is None else str(parsed)

    # --- model card (package)
    @staticmethod
    def risks(metrics: dict, n: int) -> list[str]:
        """Failure modes the run's metrics show, in sentences, most actionable first."""
        return []

    @staticmethod
    def scope_note(task: dict, record: dict) -> str:
        """What the task's answers could be, and so what the scores say nothing about (``task``: the resolved spec)."""
        return "Only inputs like the suite's test items were studied."


def weakest(table: dict | None, score: str) -> tuple[str | None, dict | None]:
    """The row of a per-class or per-field table with the lowest ``score`` (ties: the first name); (None, None) if empty."""
    if not table:
        return None, None
    name = min(table, key=lambda key: (table[key][score], key))
    return name, table[name]


# ----------------------------------------------------------------------------- the registry
_REGISTRY: dict[str, type[TaskType]] = {}


def register_task_type(cls: type[TaskType]) -> type[TaskType]:
    """Make a task type known to the suite schema, the run, the gate, the report and packaging (a class decorator)."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__}: a task type needs a name")
    spec = getattr(cls, "Spec", None)
    tag = spec.model_fields.get("type") if isinstance(spec, type) and issubclass(spec, TaskCommon) else None
    if tag is None or getattr(tag.annotation, "__args__", None) != (name,):
        raise ValueError(f"task type {name!r}: Spec must be a TaskCommon with type: Literal[{name!r}]")
    keys = [m.key for m in cls.metrics]
    missing = {"accuracy", "format_compliance"} - set(keys)
    if missing or len(set(keys)) != len(keys):
        raise ValueError(
            f"task type {name!r}: metrics must declare accuracy and format_compliance once each "
            f"(missing {sorted(missing)}, declared {keys})"
        )
    for metric in cls.metrics:
        other = _declared(metric.key, exclude=name)
        if other is not None and (other.item_field, other.combine) != (metric.item_field, metric.combine):
            raise ValueError(
                f"task type {name!r}: metric {metric.key} is computed from {metric.item_field!r} here but "
                f"from {other.item_field!r} elsewhere; a metric name means one computation"
            )
        if metric.gate_default and not metric.higher_is_better:
            raise ValueError(f"task type {name!r}: {metric.key} is lower-is-better, so it cannot be a gate default")
    w = cls.words
    unknown = [k for k in (w.headline, w.second, w.compliance, *w.columns, *w.paired) if k not in keys]
    if unknown:
        raise ValueError(f"task type {name!r}: report words name undeclared metrics {unknown}")
    _REGISTRY[name] = cls
    _spec_union.cache_clear()
    return cls


def unregister_task_type(name: str) -> None:
    """Forget a registered task type (a test's own type, once the test is done)."""
    _REGISTRY.pop(name, None)
    _spec_union.cache_clear()


def task_types() -> dict[str, type[TaskType]]:
    """Every registered task type by name, in registration order."""
    return dict(_REGISTRY)


def task_type(name: str | None) -> type[TaskType]:
    """The registered task type; runs that predate task types (no name) are classification."""
    name = name or "classification"
    if name not in _REGISTRY:
        close = get_close_matches(name, list(_REGISTRY), n=1)
        raise BenchError(
            f"unknown task type '{name}'" + (f"; did you mean '{close[0]}'?" if close else ""),
            hint=f"task types: {', '.join(_REGISTRY)}; a task type defined outside bench must be "
            "registered (register_task_type) before it is read",
        )
    return _REGISTRY[name]


def task_from_spec(spec: TaskCommon) -> Task:
    return task_type(spec.type).from_spec(spec)  # type: ignore[attr-defined]


def measures_for(name: str | None) -> Measures:
    """The report words of a task type, its metric declarations filled in."""
    return task_type(name).measures()


def task_spec_classes() -> tuple[type[TaskCommon], ...]:
    return tuple(cls.Spec for cls in _REGISTRY.values())


def metric_keys(name: str) -> tuple[str, ...]:
    """The metrics a task type measures, in declaration order."""
    return tuple(m.key for m in task_type(name).metrics)


def all_metrics() -> dict[str, list[Metric]]:
    """Every declared metric key -> its declarations, in registration order (one per task type declaring it)."""
    out: dict[str, list[Metric]] = {}
    for cls in _REGISTRY.values():
        for metric in cls.metrics:
            out.setdefault(metric.key, []).append(metric)
    return out


def item_fields(name: str | None = None) -> set[str]:
    """The per-item fields a task type's metrics are computed from (a baseline keeps them)."""
    return {m.item_field for m in task_type(name).metrics}


def metric(key: str, task: str | None = None) -> Metric:
    """A metric's declaration: the task type's own, or else the first type's that declares the key."""
    if task is not None and task in _REGISTRY:
        found = next((m for m in _REGISTRY[task].metrics if m.key == key), None)
        if found is not None:
            return found
    found = _declared(key)
    if found is None:
        raise ValueError(f"no task type declares a metric {key!r}")
    return found


def _declared(key: str, exclude: str | None = None) -> Metric | None:
    for name, cls in _REGISTRY.items():
        if name != exclude:
            for m in cls.metrics:
                if m.key == key:
                    return m
    return None


# ----------------------------------------------------------------------------- the suite's task: section, validated
def validate_task_spec(value: Any) -> TaskCommon:
    """The ``task:`` section as its type's spec: dispatched on ``type`` to the registered spec class.

    Errors keep pydantic's discriminated-union locations (``extraction.json_schema``), which the suite
    loader turns into file:line and "did you mean"; a missing or unknown type names the known ones.
    """
    from pydantic import TypeAdapter, ValidationError
    from pydantic_core import PydanticCustomError

    if isinstance(value, TaskCommon):
        return value
    if isinstance(value, dict):
        name = value.get("type")
        known = ", ".join(_REGISTRY)
        problem = None
        if name is None:
            problem = f"required key is missing: the task type, one of {known}"
        elif not isinstance(name, str) or name not in _REGISTRY:
            close = get_close_matches(str(name), list(_REGISTRY), n=1)
            problem = (
                f"unknown task type '{name}'"
                + (f"; did you mean '{close[0]}'?" if close else "")
                + f" (known: {known})"
            )
        if problem:
            raise ValidationError.from_exception_data(
                "task", [{"type": PydanticCustomError("task_type", problem), "loc": ("type",)}]
            )
    return TypeAdapter(_spec_union()).validate_python(value)


@lru_cache(maxsize=1)
def _spec_union() -> Any:
    from typing import Annotated, Union

    classes = task_spec_classes()
    if len(classes) == 1:
        return classes[0]
    return Annotated[Union[classes], Field(discriminator="type")]  # type: ignore[valid-type]


def task_spec_json_schema(handler) -> dict:
    """The JSON Schema of the task section: a union of the registered specs, discriminated by ``type``."""
    from pydantic import TypeAdapter

    return {**handler(TypeAdapter(_spec_union()).core_schema), "title": "Task"}
