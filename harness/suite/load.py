"""Read a suite YAML into a ``Suite``, reporting every problem at once with file:line.

The YAML is composed into nodes first so that every key keeps its line number;
pydantic's error locations are then mapped back to those lines. Unknown keys get
a "did you mean" from the fields the schema allows at that place.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import BaseModel, ValidationError

from harness.core.errors import BenchError, Problem
from harness.suite.schema import Suite
from harness.tasks.base import TaskCommon, all_metrics, metric_keys, task_spec_classes, task_types

Loc = tuple[Any, ...]


@dataclass(frozen=True)
class LoadedSuite:
    """A validated suite plus where it came from."""

    spec: Suite
    path: Path
    sha256: str  # of the file's bytes: the suite hash recorded in every run
    lines: dict = field(default_factory=dict, compare=False, repr=False)  # YAML location -> line number

    @property
    def folder(self) -> Path:
        return self.path.parent

    def line_of(self, *loc: Any) -> int | None:
        return _line_of(tuple(loc), self.lines)

    def resolve_path(self, relative: str, *, field: str) -> Path:
        """A path from the suite, relative to its folder, and kept inside it unless the suite opts out.

        Without the fence a shared suite could read any file the user can
        (``../../.ssh/id_rsa``) and echo it into prompts and reports.
        """
        path = (self.folder / relative).resolve()
        if not self.spec.allow_paths_outside_suite and not path.is_relative_to(self.folder):
            raise BenchError(
                "a path in the suite points outside the suite's folder",
                problems=[
                    Problem(str(self.path), self.line_of(*field.split(".")), field, f"'{relative}' resolves to {path}")
                ],
                hint="move the file under the suite's folder, or set allow_paths_outside_suite: true",
            )
        return path

    def data_files(self) -> dict[str, Path]:
        data = self.spec.task.data.model_dump()
        return {name: self.resolve_path(rel, field=f"task.data.{name}") for name, rel in data.items() if rel}


def load_suite(path: str | Path, variant_configs: Mapping[str, type[BaseModel]]) -> LoadedSuite:
    """Read and validate a suite. ``variant_configs`` maps each variant kind to its config class
    (``harness.variants.variant_configs()``): the suite validates variants without importing them."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchError(f"suite file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"cannot read suite file {path}: {exc}") from None
    raw, lines = _parse_yaml(text, str(path))
    suite = validate_suite(raw, lines, str(path), variant_configs)
    return LoadedSuite(spec=suite, path=path.resolve(), sha256=hashlib.sha256(text.encode()).hexdigest(), lines=lines)


def _parse_yaml(text: str, filename: str) -> tuple[dict, dict[Loc, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise BenchError("the suite is not valid YAML", problems=[Problem(filename, line, None, problem)]) from None
    if not isinstance(raw, dict):
        raise BenchError(
            "the suite must be a YAML mapping",
            problems=[Problem(filename, 1, None, "expected keys such as name:, task:, variants:")],
        )
    lines: dict[Loc, int] = {}
    _index_lines(node, (), lines)
    return raw, lines


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = loc + (key_node.value,)
            _index_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1  # point at the key, not its value
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, loc + (index,), lines)


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc)


def validate_suite(
    raw: dict, lines: dict[Loc, int], filename: str, variant_configs: Mapping[str, type[BaseModel]]
) -> Suite:
    """Validate the whole suite; collect problems from every part before raising."""
    problems: list[Problem] = []
    kinds = variant_configs
    typed_variants: list[Any] = []

    raw_variants = raw.get("variants")
    if isinstance(raw_variants, list):
        for index, entry in enumerate(raw_variants):
            typed_variants += _validate_variant(entry, (("variants", index)), kinds, lines, filename, problems)

    top = dict(raw)
    if isinstance(raw_variants, list):
        top["variants"] = typed_variants or raw_variants
    try:
        suite = Suite.model_validate(top)
    except ValidationError as exc:
        problems += _problems_from(
            exc,
            (),
            Suite,
            lines,
            filename,
            skip_prefix=("variants",) if isinstance(raw_variants, list) and raw_variants else None,
        )
        suite = None
    problems += _cross_field_problems(raw, lines, filename)
    names = [v.name for v in typed_variants]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            Problem(
                filename,
                _line_of(("variants",), lines),
                "variants",
                f"variant name '{name}' is used twice (after grid expansion)",
            )
        )
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        noun = "problem" if len(problems) == 1 else "problems"
        raise BenchError(f"{filename}: {len(problems)} {noun} in the suite", problems=problems)
    return suite


def _cross_field_problems(raw: dict, lines: dict[Loc, int], filename: str) -> list[Problem]:
    """Checks that span sections; read from the raw YAML so they report alongside every other problem."""
    task = raw.get("task")
    task_type = task.get("type") if isinstance(task, dict) else None
    return _rank_mode_problems(raw, task_type, lines, filename) + _gate_metric_problems(raw, task_type, lines, filename)


def _rank_mode_problems(raw: dict, task_type: str | None, lines: dict[Loc, int], filename: str) -> list[Problem]:
    inference = raw.get("inference")
    mode = inference.get("mode") if isinstance(inference, dict) else None
    if mode == "rank" and task_type is not None and task_type != "classification":
        return [
            Problem(
                filename,
                _line_of(("inference", "mode"), lines),
                "inference.mode",
                f"mode 'rank' chooses among labels, so it needs a classification task (this one is '{task_type}'); "
                "use mode: generate",
            )
        ]
    return []


def _gate_metric_problems(raw: dict, task_type: str | None, lines: dict[Loc, int], filename: str) -> list[Problem]:
    """A gate rule on a metric this task type does not measure (rouge_l on extraction): found now, not at gate time.

    Names no task type measures are unknown keys, which the schema reports with its own "did you mean".
    """
    gate = raw.get("gate")
    if task_type not in task_types() or not isinstance(gate, dict):
        return []  # an unknown task type is reported by the schema
    known = metric_keys(task_type)
    measured_somewhere = all_metrics()
    problems = []
    for section in ("floors", "allowed_drop"):
        rules = gate.get(section)
        for metric in rules if isinstance(rules, dict) else ():
            if metric in measured_somewhere and metric not in known:
                loc = ("gate", section, metric)
                problems.append(
                    Problem(
                        filename,
                        _line_of(loc, lines),
                        _dotted(loc),
                        f"{task_type} tasks do not measure {metric} (metrics of {task_type} tasks: {', '.join(known)})",
                    )
                )
    return problems


def _validate_variant(
    entry: Any, loc: Loc, kinds: dict, lines: dict, filename: str, problems: list[Problem]
) -> list[Any]:
    line = _line_of(loc, lines)
    if not isinstance(entry, dict):
        problems.append(Problem(filename, line, _dotted(loc), "each variant must be a mapping with name: and kind:"))
        return []
    kind = entry.get("kind")
    if kind not in kinds:
        close = get_close_matches(str(kind), kinds, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.append(
            Problem(
                filename,
                _line_of(loc + ("kind",), lines),
                _dotted(loc + ("kind",)),
                f"unknown variant kind '{kind}'{hint} (known: {', '.join(sorted(kinds))})",
            )
        )
        return []
    config_cls = kinds[kind]
    typed = []
    for expanded in expand_grid(entry, loc, lines, filename, problems):
        try:
            typed.append(config_cls.model_validate(expanded))
        except ValidationError as exc:
            problems += _problems_from(exc, loc, config_cls, lines, filename)
            break  # one grid point's errors are every grid point's errors
    return typed


def expand_grid(entry: dict, loc: Loc, lines: dict, filename: str, problems: list[Problem]) -> list[dict]:
    """``grid: {r: [4, 16]}`` on a variant named ``lora`` -> ``lora-r4``, ``lora-r16``.

    Keys may be dotted to reach into a nested mapping (``training.learning_rate``).
    Names stay predictable: ``<name>-<key><value>`` per grid key, in the order written.
    """
    grid = entry.get("grid")
    if grid is None:
        return [entry]
    if not isinstance(grid, dict) or not grid or not all(isinstance(v, list) and v for v in grid.values()):
        problems.append(
            Problem(
                filename,
                _line_of(loc + ("grid",), lines),
                _dotted(loc + ("grid",)),
                "grid must map parameter names to non-empty lists, e.g. grid: {r: [4, 16, 64]}",
            )
        )
        return []
    base = {k: v for k, v in entry.items() if k != "grid"}
    out = []
    for values in itertools.product(*grid.values()):
        point = _deep_copy(base)
        suffix = []
        for key, value in zip(grid, values):
            _set_dotted(point, key, value)
            suffix.append(f"{key.split('.')[-1]}{value}")
        point["name"] = "-".join([str(base.get("name", base.get("kind")))] + suffix)
        out.append(point)
    return out


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _set_dotted(target: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _problems_from(
    exc: ValidationError,
    prefix: Loc,
    model: type[BaseModel],
    lines: dict,
    filename: str,
    skip_prefix: Loc | None = None,
) -> list[Problem]:
    problems = []
    for error in exc.errors():
        raw_loc = tuple(error["loc"])
        loc = _strip_tags(raw_loc, model) if model is Suite else raw_loc
        if skip_prefix and loc[: len(skip_prefix)] == skip_prefix and len(loc) > len(skip_prefix):
            continue  # variant entries were already checked, with their own lines
        full = prefix + loc
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            allowed = _fields_at(model, raw_loc[:-1])
            close = get_close_matches(str(loc[-1]), allowed, n=1)
            message = (
                f"unknown key '{loc[-1]}'"
                + (f"; did you mean '{close[0]}'?" if close else "")
                + (f" (allowed: {', '.join(allowed)})" if allowed else "")
            )
        elif error["type"] == "missing":
            message = "required key is missing"
        elif "input" in error and error["type"] not in ("value_error", "task_type", "unknown_metric"):  # these say it
            message = f"{message} (got {error['input']!r})"
        problems.append(Problem(filename, _line_of(full, lines), _dotted(full), message))
    return problems


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Names the schema allows at ``loc`` (for "did you mean").

    pydantic puts a discriminated union's tag into the location
    (``task.extraction.json_schema``); such a part picks the union member.
    """
    candidates: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        by_tag = [c for c in candidates if _tag_of(c) == part]
        if by_tag:
            candidates = by_tag
            continue
        field = next((c.model_fields[part] for c in candidates if part in c.model_fields), None)
        if field is None:
            return []
        candidates = [c for c in _models_in(field.annotation)]
        if not candidates:
            return []
    return sorted(candidates[0].model_fields) if len(candidates) == 1 else []


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation: X, X | None, Annotated[Union[X, Y], ...]."""
    if annotation is TaskCommon:  # the task section: one of the registered task types' specs
        return list(task_spec_classes())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found += _models_in(arg)
    return found


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    args = getattr(field.annotation, "__args__", ()) if field else ()
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def _strip_tags(loc: Loc, model: type[BaseModel]) -> Loc:
    """Drop union tags from a pydantic location so it names the YAML keys the user wrote."""
    if (
        len(loc) >= 2
        and loc[0] == "task"
        and loc[1] in {_tag_of(m) for m in _models_in(model.model_fields["task"].annotation)}
    ):
        return loc[:1] + loc[2:]
    return loc


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
