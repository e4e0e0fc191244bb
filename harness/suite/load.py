"""Read a suite YAML into a ``Suite``, reporting every problem at once with file:line.

The YAML is composed into nodes first so that every key keeps its line number;
pydantic's error locations are then mapped back to those lines. Unknown keys get
a "did you mean" from the fields the schema allows at that place.

A suite may come from a pull request, so reading it is bounded before anything
is built (harness/core/limits.py): size, nesting depth, no YAML aliases (a few
lines of aliases expand to gigabytes), no duplicate keys, a bounded grid. What a
suite may ask for but not grant itself (remote code, files outside its folder)
is checked against the ``Trust`` the command line gave (harness/core/trust.py).
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
from harness.core.limits import MAX_GRID_POINTS, MAX_SUITE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, clip
from harness.core.trust import ALLOW_PATH_FLAG, TRUST_REMOTE_CODE_FLAG, Trust
from harness.suite.schema import Suite
from harness.tasks.base import TaskCommon, all_metrics, metric_keys, task_spec_classes, task_types
from harness.tasks.data_spec import DataSource

Loc = tuple[Any, ...]
# libyaml's parser where PyYAML was built with it: about 10x faster than the pure-Python one on a large document.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class LoadedSuite:
    """A validated suite plus where it came from."""

    spec: Suite
    path: Path
    sha256: str  # of the file's bytes: the suite hash recorded in every run
    lines: dict = field(default_factory=dict, compare=False, repr=False)  # YAML location -> line number
    trust: Trust = field(default_factory=Trust, compare=False)  # what the command line granted

    @property
    def folder(self) -> Path:
        return self.path.parent

    def line_of(self, *loc: Any) -> int | None:
        return _line_of(tuple(loc), self.lines)

    def resolve_path(self, relative: str, *, field: str) -> Path:
        """A path from the suite, relative to its folder, kept inside it or a folder granted with --allow-path.

        Without the fence a shared suite could read any file the user can
        (``../../.ssh/id_rsa``) and echo it into prompts and reports. Symlinks are
        resolved first, so a link inside the folder to a file outside is outside.
        """
        path = (self.folder / relative).resolve()
        if not self.allows(path):
            raise BenchError(
                "a path in the suite points outside the suite's folder",
                problems=[
                    Problem(
                        str(self.path), self.line_of(*field.split(".")), field, f"{clip(relative)} resolves to {path}"
                    )
                ],
                hint=f"move the file under the suite's folder, or let bench read its folder: {ALLOW_PATH_FLAG}",
            )
        return path

    def allows(self, path: Path) -> bool:
        """``path`` (resolved) lies in the suite's folder or a folder the command line granted."""
        return path.is_relative_to(self.folder) or self.trust.allows(path)

    def data_sources(self) -> dict[str, tuple[DataSource, Path | None]]:
        """Each split the suite names: its entry, and its path resolved and fenced (None for a hub dataset)."""
        out = {}
        for name in ("train", "validation", "test"):
            source = getattr(self.spec.task.data, name)
            if source is None:
                continue
            field = f"task.data.{name}" + ("" if source.model_fields_set <= {"path"} else ".path")
            out[name] = (source, self.resolve_path(source.path, field=field) if source.path else None)
        return out

    def data_files(self) -> dict[str, Path]:
        """The chat JSONL files (``bench data check`` reads these); a table is refused with what to do."""
        files = {}
        for name, (source, path) in self.data_sources().items():
            if not source.is_chat or path is None:
                raise BenchError(
                    f"task.data.{name} is a table, and this reads chat JSONL",
                    hint="write chat JSONL from it with `bench data import TABLE --text COL --label COL`",
                )
            files[name] = path
        return files


def load_suite(
    path: str | Path, variant_configs: Mapping[str, type[BaseModel]], trust: Trust | None = None
) -> LoadedSuite:
    """Read and validate a suite. ``variant_configs`` maps each variant kind to its config class
    (``harness.variants.variant_configs()``): the suite validates variants without importing them.
    ``trust`` is what the command line granted; by default, only what the environment grants."""
    path = Path(path)
    trust = trust if trust is not None else Trust.granted()
    try:
        if path.stat().st_size > MAX_SUITE_BYTES:
            raise BenchError(
                f"{path}: the suite is {path.stat().st_size:,} bytes; the limit is {MAX_SUITE_BYTES:,}",
                hint="a suite names its data files; the data itself lives in them",
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchError(f"suite file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"cannot read suite file {path}: {exc}") from None
    raw, lines = _parse_yaml(text, str(path))
    suite = validate_suite(raw, lines, str(path), variant_configs, trust=trust)
    return LoadedSuite(
        spec=suite, path=path.resolve(), sha256=hashlib.sha256(text.encode()).hexdigest(), lines=lines, trust=trust
    )


def _parse_yaml(text: str, filename: str) -> tuple[dict, dict[Loc, int]]:
    loader = node = None
    try:
        _check_yaml_events(text, filename)  # aliases and depth, from the event stream, before anything is built
        loader = _Loader(text)
        node = loader.get_single_node()
        raw = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise BenchError("the suite is not valid YAML", problems=[Problem(filename, line, None, problem)]) from None
    except (ValueError, OverflowError) as exc:  # a scalar PyYAML parses but cannot build: a 5,000-digit int, month 13
        line = _unreadable_scalar_line(node, loader)
        raise BenchError(
            "the suite holds a value that cannot be read",
            problems=[Problem(filename, line, None, str(exc).split(";")[0][:200])],
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(raw, dict):
        raise BenchError(
            "the suite must be a YAML mapping",
            problems=[Problem(filename, 1, None, "expected keys such as name:, task:, variants:")],
        )
    lines: dict[Loc, int] = {}
    duplicates: list[Problem] = []
    _index_lines(node, (), lines, loader, filename, duplicates)
    if duplicates:
        raise BenchError(f"{filename}: the same key twice in one mapping", problems=duplicates)
    return raw, lines


def _unreadable_scalar_line(node: yaml.Node, loader: yaml.SafeLoader) -> int | None:
    """The line of the first scalar that fails to build (the document is bounded and alias-free by now)."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode):
            try:
                loader.construct_object(current)
            except (ValueError, OverflowError, yaml.YAMLError):
                return current.start_mark.line + 1
        elif isinstance(current, yaml.MappingNode):
            stack += [part for pair in reversed(current.value) for part in reversed(pair)]
        elif isinstance(current, yaml.SequenceNode):
            stack += reversed(current.value)
    return None


def _check_yaml_events(text: str, filename: str) -> None:
    """Refuse aliases and deep nesting while reading events: linear in the text, nothing expanded or recursed.

    An alias (``*name``) repeats a node; nine lines of aliases to aliases make 10^9
    nodes for anything that walks the document (the billion-laughs attack). A suite
    is short enough to write out, so aliases are refused rather than counted.
    PyYAML builds nodes recursively, so nesting is bounded before it does.
    """
    depth = 0
    for count, event in enumerate(yaml.parse(text, Loader=_Loader)):
        if count > MAX_YAML_NODES:  # building and checking each node costs time: a suite is a page, not a data set
            raise BenchError(
                "the suite is too large",
                problems=[
                    Problem(filename, event.start_mark.line + 1, None, f"more than {MAX_YAML_NODES:,} keys and values")
                ],
            )
        if isinstance(event, yaml.AliasEvent):
            raise BenchError(
                "the suite uses a YAML alias",
                problems=[
                    Problem(
                        filename,
                        event.start_mark.line + 1,
                        None,
                        f"alias '*{event.anchor[:40]}': aliases are not allowed in a suite; write the value out",
                    )
                ],
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise BenchError(
                    "the suite is nested too deeply",
                    problems=[
                        Problem(
                            filename,
                            event.start_mark.line + 1,
                            None,
                            f"more than {MAX_YAML_DEPTH} levels of nested mappings or lists",
                        )
                    ],
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _index_lines(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], loader: yaml.SafeLoader, filename: str, duplicates: list
) -> None:
    """Line of every location, keyed as the parsed document is (``null:`` is None, ``1:`` is 1); duplicate
    keys found on the way, since a YAML mapping silently keeps the last of two."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = _key_of(key_node, loader)
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(
                    Problem(
                        filename, line, _dotted(loc + (key,)), f"duplicate key (first on line {seen[key]}); keep one"
                    )
                )
                continue
            seen[key] = line
            child = loc + (key,)
            _index_lines(value_node, child, lines, loader, filename, duplicates)
            lines[child] = line  # point at the key, not its value
            if not isinstance(key, str):
                lines[loc + (str(key),)] = line  # pydantic names a non-text key by its str() ('None')
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, loc + (index,), lines, loader, filename, duplicates)


def _key_of(key_node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    """A mapping key as the parsed document holds it; a key that is itself a collection by its text."""
    if isinstance(key_node, yaml.ScalarNode):
        return loader.construct_object(key_node)
    return f"<{key_node.tag}>@{key_node.start_mark.line + 1}"


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc)


def validate_suite(
    raw: dict,
    lines: dict[Loc, int],
    filename: str,
    variant_configs: Mapping[str, type[BaseModel]],
    *,
    trust: Trust | None = None,
) -> Suite:
    """Validate the whole suite; collect problems from every part before raising."""
    problems: list[Problem] = _trust_problems(raw, lines, filename, trust or Trust())
    kinds = variant_configs
    typed_variants: list[Any] = []

    raw_variants = raw.get("variants")
    if isinstance(raw_variants, list):
        for index, entry in enumerate(raw_variants):
            typed_variants += _validate_variant(entry, (("variants", index)), kinds, lines, filename, problems, raw)

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


def _trust_problems(raw: dict, lines: dict[Loc, int], filename: str, trust: Trust) -> list[Problem]:
    """What a suite may ask for but only the person running bench may grant (docs/security.md)."""
    problems = []
    base_model = raw.get("base_model")
    if isinstance(base_model, dict) and base_model.get("trust_remote_code") is True and not trust.remote_code:
        loc = ("base_model", "trust_remote_code")
        problems.append(
            Problem(
                filename,
                _line_of(loc, lines),
                _dotted(loc),
                "the suite asks to run code shipped with the model, which a suite cannot allow itself; "
                f"if you trust the model, pass {TRUST_REMOTE_CODE_FLAG}",
            )
        )
    if raw.get("allow_paths_outside_suite") is True and not trust.allowed_paths:
        loc = ("allow_paths_outside_suite",)
        problems.append(
            Problem(
                filename,
                _line_of(loc, lines),
                _dotted(loc),
                "a suite cannot open its own path fence; grant the folders it may read with " + ALLOW_PATH_FLAG,
            )
        )
    return problems


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
    entry: Any, loc: Loc, kinds: dict, lines: dict, filename: str, problems: list[Problem], raw: dict | None = None
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
                f"unknown variant kind {clip(kind)}{hint} (known: {', '.join(sorted(kinds))})",
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
        for problem in _override_problems(expanded, entry, loc, raw or {}, lines, filename):
            if problem not in problems:  # grid points share their lines: say each thing once
                problems.append(problem)
    return typed


def _override_problems(point: dict, entry: dict, loc: Loc, raw: dict, lines: dict, filename: str) -> list[Problem]:
    """A variant's own prompt and inference, checked against the suite: the prompt it names exists, and its
    effective inference is one the suite's task can use."""
    problems = []

    def problem(key: str, message: str) -> None:
        where = loc + (("grid", key) if key in (entry.get("grid") or {}) else tuple(key.split(".")))
        problems.append(Problem(filename, _line_of(where, lines), _dotted(loc + tuple(key.split("."))), message))

    name = point.get("prompt")
    prompts = raw.get("prompts") if isinstance(raw.get("prompts"), dict) else {}
    if name is not None and name not in prompts:
        close = get_close_matches(str(name), list(prompts), n=1)
        problem(
            "prompt",
            f"no prompt named '{name}' in the suite's prompts:"
            + (f"; did you mean '{close[0]}'?" if close else "")
            + (f" (defined: {', '.join(prompts)})" if prompts else " (the suite has no prompts: block)"),
        )
    own = point.get("inference") if isinstance(point.get("inference"), dict) else {}
    suite_inference = raw.get("inference") if isinstance(raw.get("inference"), dict) else {}
    mode = own.get("mode", suite_inference.get("mode", "generate"))
    task = raw.get("task")
    task_type = task.get("type") if isinstance(task, dict) else None
    if own.get("mode") == "rank" and task_type is not None and task_type != "classification":
        problem(
            "inference.mode",
            f"mode 'rank' chooses among labels, so it needs a classification task (this one is '{task_type}')",
        )
    if mode == "rank" and own.get("merge_check", suite_inference.get("merge_check")) and ("mode" in own):
        problem(
            "inference.mode",
            "this variant ranks, and the suite's inference.merge_check compares generated answers; "
            "add merge_check: false to this variant's inference:",
        )
    return problems


def expand_grid(entry: dict, loc: Loc, lines: dict, filename: str, problems: list[Problem]) -> list[dict]:
    """``grid: {r: [4, 16]}`` on a variant named ``lora`` -> ``lora-r4``, ``lora-r16``.

    Keys may be dotted to reach into a nested mapping (``training.learning_rate``).
    Names stay predictable: ``<name>-<key><value>`` per grid key, in the order written; a named
    prompt adds just its name (``grid: {prompt: [terse, detailed]}`` -> ``zero-shot-terse``).
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
    if not _grid_is_sound(grid, base, loc, lines, filename, problems):
        return []
    out = []
    for values in itertools.product(*grid.values()):
        point = _deep_copy(base)
        suffix = []
        for key, value in zip(grid, values):
            _set_dotted(point, key, value)
            suffix.append(str(value) if key == "prompt" else f"{key.split('.')[-1]}{value}")
        point["name"] = "-".join([str(base.get("name", base.get("kind")))] + suffix)
        out.append(point)
    return out


def _grid_is_sound(grid: dict, base: dict, loc: Loc, lines: dict, filename: str, problems: list[Problem]) -> bool:
    """Each key a name or dotted path that reaches through mappings only; the points countable, not a hang."""
    points = 1
    for values in grid.values():
        points *= len(values)
    if points > MAX_GRID_POINTS:
        problems.append(
            Problem(
                filename,
                _line_of(loc + ("grid",), lines),
                _dotted(loc + ("grid",)),
                f"the grid expands to {points:,} variants; the limit is {MAX_GRID_POINTS:,}",
            )
        )
        return False
    for key in grid:
        where = loc + ("grid", key)
        if not isinstance(key, str) or not all(key.split(".")):
            problems.append(
                Problem(
                    filename,
                    _line_of(where, lines),
                    _dotted(where),
                    "a grid key is a field name, e.g. r or training.max_steps",
                )
            )
            return False
        target: Any = base
        for part in key.split(".")[:-1]:
            target = target.get(part) if isinstance(target, dict) else None
            if target is not None and not isinstance(target, dict):
                problems.append(
                    Problem(
                        filename,
                        _line_of(where, lines),
                        _dotted(where),
                        f"'{key}' reaches into '{part}', which is {clip(target)}, not a mapping",
                    )
                )
                return False
    return True


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
                f"unknown key {clip(loc[-1])}"
                + (f"; did you mean '{close[0]}'?" if close else "")
                + (f" (allowed: {', '.join(allowed)})" if allowed else "")
            )
        elif error["type"] == "missing":
            message = "required key is missing"
        elif "input" in error and error["type"] not in ("value_error", "task_type", "unknown_metric"):  # these say it
            message = f"{message} (got {clip(error['input'])})"
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
