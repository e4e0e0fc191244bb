"""Tables as splits: a CSV, TSV, Parquet or JSONL table, a ``datasets`` folder or a pinned hub dataset,
read into the same ``Item`` objects a chat JSONL file gives, so every later stage is unchanged.

A row becomes one item: the suite's ``template`` filled with the row's input
columns is the user turn, and the task type's ``answer_for`` turns the label or
target cell into the gold answer (classification: ``answer_format`` with the
label). Every problem is collected with the file, the row (1-based data row; for
JSONL, the line) and the column before anything raises.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from harness.core.errors import BenchError, Problem, require
from harness.data.chat import Item, content_hash, read_json_object
from harness.data.text import decode_text, decoded_lines
from harness.tasks import Task
from harness.tasks.data_spec import SUFFIX_FORMATS, DataSource

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass(frozen=True)
class Rows:
    """A table's rows as read, before any mapping."""

    where: str  # the file, folder or hub id@revision that errors name
    format: str
    columns: list[str]
    records: list[tuple[int, dict]]  # (row number, or line number when by_line, -> cells)
    by_line: bool  # JSONL: numbers are file lines
    file_sha256: str | None  # of the file's bytes (of every file, for a folder); None for a hub dataset

    def locate(self, number: int, column: str | None) -> tuple[int | None, str | None]:
        """(line, field) of a Problem about one cell."""
        if self.by_line:
            return number, (f"column '{column}'" if column else None)
        return None, f"row {number}" + (f", column '{column}'" if column else "")


def table_format(source: DataSource, path: Path | None) -> str:
    if source.format:
        return source.format
    if source.hub is not None or (path is not None and path.is_dir()):
        return "datasets"
    suffix = path.suffix.lower() if path else ""
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    raise BenchError(
        f"cannot tell the table format of {path} from its name",
        hint="set format: csv, tsv, parquet, jsonl or datasets in its task.data entry",
    )


def read_rows(name: str, source: DataSource, path: Path | None) -> Rows:
    """The table's rows; a file that cannot be read at all raises, naming it."""
    fmt = table_format(source, path)
    if source.hub is not None:
        return _read_hub(name, source)
    assert path is not None
    if not path.exists():
        raise BenchError(
            f"data for split '{name}' not found: {path}",
            problems=[
                Problem(str(path), None, f"task.data.{name}", "not found (paths are relative to the suite file)")
            ],
        )
    if fmt == "datasets":
        return _read_datasets_folder(name, source, path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BenchError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if fmt == "jsonl":
        return _read_jsonl(path, raw, source.encoding, digest)
    pd = require("pandas", feature="table data")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(io.BytesIO(raw))
        else:
            # Every cell as text, an empty cell as "": a label "NA" or "null" stays a label.
            frame = pd.read_csv(
                io.StringIO(decode_text(raw, path, encoding=source.encoding)),
                sep="\t" if fmt == "tsv" else ",",
                dtype=str,
                keep_default_na=False,
                na_filter=False,
            )
    except BenchError:
        raise
    except (ValueError, OSError, pd.errors.ParserError) as exc:  # ParserError, EmptyDataError, ArrowInvalid
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"{path}: not a readable {fmt} table: {first}") from None
    records = [(index + 1, row) for index, row in enumerate(frame.to_dict("records"))]
    return Rows(str(path), fmt, [str(c) for c in frame.columns], records, False, digest)


def _read_jsonl(path: Path, raw: bytes, encoding: str, digest: str) -> Rows:
    problems: list[Problem] = []
    records: list[tuple[int, dict]] = []
    columns: dict[str, None] = {}
    for line_no, line in decoded_lines(raw, path, problems, encoding=encoding):
        if line is None or not line.strip():
            continue
        row = read_json_object(line, line_no, path, problems, expected="expected a JSON object (one row per line)")
        if row is not None:
            records.append((line_no, row))
            columns.update(dict.fromkeys(row))
    if problems:
        raise BenchError(f"{path}: {len(problems)} unreadable line(s)", problems=problems[:50])
    return Rows(str(path), "jsonl", list(columns), records, True, digest)


def _read_datasets_folder(name: str, source: DataSource, path: Path) -> Rows:
    datasets = require("datasets", feature="datasets folders")
    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise BenchError(
            f"{path}: not a datasets folder ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
            hint="write one with Dataset.save_to_disk or DatasetDict.save_to_disk",
        ) from None
    dataset = _pick_split(loaded, source.split or name, str(path), split_given=source.split is not None)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0" + file.read_bytes())
    return _rows_of_dataset(dataset, str(path), digest.hexdigest())


def _read_hub(name: str, source: DataSource) -> Rows:
    where = f"{source.hub}@{source.revision}"
    offline = [v for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE") if os.environ.get(v, "").lower() in ("1", "true")]
    hint = "save it once with DatasetDict.save_to_disk and name that folder as path:, or run online"
    if offline:
        raise BenchError(
            f"task.data.{name}: the hub dataset {where} needs a network, and {offline[0]} is set", hint=hint
        )
    datasets = require("datasets", feature="hub datasets")
    try:
        dataset = datasets.load_dataset(source.hub, revision=source.revision, split=source.split or name)
    except Exception as exc:  # noqa: BLE001  network, missing repo or revision, unknown split: one line each
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"task.data.{name}: cannot load the hub dataset {where}: {first}", hint=hint) from None
    return _rows_of_dataset(dataset, where, None)


def _pick_split(loaded, split: str, where: str, *, split_given: bool):
    if not hasattr(loaded, "keys"):  # a single Dataset
        if split_given:
            raise BenchError(f"{where} holds one dataset, not splits; drop split: from its task.data entry")
        return loaded
    if split not in loaded:
        raise BenchError(
            f"{where} has no split '{split}' (splits: {', '.join(loaded.keys())})",
            hint="name one with split: in its task.data entry",
        )
    return loaded[split]


def _rows_of_dataset(dataset, where: str, digest: str | None) -> Rows:
    # ClassLabel columns hold integers; the suite's labels are their names.
    names = {
        column: feature.names
        for column, feature in dataset.features.items()
        if type(feature).__name__ == "ClassLabel" and getattr(feature, "names", None)
    }
    records = []
    for index, row in enumerate(dataset):
        for column, labels in names.items():
            value = row.get(column)
            if isinstance(value, int) and 0 <= value < len(labels):
                row[column] = labels[value]
        records.append((index + 1, row))
    return Rows(where, "datasets", list(dataset.column_names), records, False, digest)


# ----------------------------------------------------------------------------- rows -> items
def is_missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if type(value).__name__ == "NAType":  # pandas.NA
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def check_columns(rows: Rows, source: DataSource, name: str) -> list[Problem]:
    problems = []
    for key, column in (source.columns or {}).items():
        if column not in rows.columns:
            close = get_close_matches(column, rows.columns, n=1)
            problems.append(
                Problem(
                    rows.where,
                    None,
                    f"task.data.{name}.columns.{key}",
                    f"no column '{column}' in the table"
                    + (f"; did you mean '{close[0]}'?" if close else "")
                    + f" (columns: {', '.join(rows.columns)})",
                )
            )
    return problems


def row_fields(rows: Rows, number: int, row: dict, source: DataSource, problems: list[Problem]) -> dict | None:
    """The row's input fields as text, keyed as the template names them; None if one is missing."""
    fields = {}
    for key in source.input_keys:
        column = source.columns[key]
        if is_missing(row.get(column)):
            line, field = rows.locate(number, column)
            problems.append(Problem(rows.where, line, field, f"empty cell: the input field '{key}' has no text"))
            return None
        fields[key] = _text(row[column])
    return fields


def table_items(name: str, rows: Rows, source: DataSource, task: Task) -> tuple[list[Item], list[Problem]]:
    """Every row as an Item; the problems of the rows that are not one."""
    problems = check_columns(rows, source, name)
    if problems:
        return [], problems
    answer_column = source.columns[source.answer_key]
    id_column = source.columns.get("id")
    answer_for = getattr(task, "answer_for", None) or (lambda value: _text(value))
    labels = list(getattr(task, "labels", ()) or ())
    items: list[Item] = []
    seen_ids: dict[str, int] = {}
    for number, row in rows.records:
        fields = row_fields(rows, number, row, source, problems)
        value = row.get(answer_column)
        line, field = rows.locate(number, answer_column)
        if is_missing(value):
            problems.append(Problem(rows.where, line, field, f"empty cell: missing {source.answer_key}"))
            continue
        answer = answer_for(value)
        problem = task.check_gold(answer)
        if problem:
            if task.needs_label and labels:
                close = get_close_matches(str(value).strip(), labels, n=1)
                problem = (
                    f"unknown label '{str(value).strip()}'"
                    + (f"; did you mean '{close[0]}'?" if close else "")
                    + f" (the suite's task.labels has {len(labels)})"
                )
            problems.append(Problem(rows.where, line, field, problem))
            continue
        if fields is None:
            continue
        item_id = f"{name}-{number}"
        if id_column is not None:
            raw_id = row.get(id_column)
            id_line, id_field = rows.locate(number, id_column)
            if is_missing(raw_id):
                problems.append(Problem(rows.where, id_line, id_field, "empty cell: missing id"))
                continue
            item_id = _text(raw_id).strip()
            if item_id in seen_ids:
                problems.append(
                    Problem(rows.where, id_line, id_field, f"duplicate id '{item_id}' (first on {seen_ids[item_id]})")
                )
                continue
            seen_ids[item_id] = number
        prompt = [{"role": "user", "content": source.user_template.format_map(fields)}]
        items.append(
            Item(
                id=item_id,
                prompt=tuple(prompt),
                answer=answer,
                label=task.label_of(answer) if task.needs_label else None,
                source=f"{rows.where}:{number}" if rows.by_line else f"{rows.where}: row {number}",
                content_hash=content_hash(prompt, answer),
            )
        )
    if not items and not problems:
        problems.append(Problem(rows.where, None, None, f"split '{name}' is empty: the table has no rows"))
    return items, problems


def items_sha256(items) -> str:
    """A split's fingerprint from its items (ids, prompts, answers, exactly): changes with the data, the
    mapping, the template and the carving alike."""
    canonical = json.dumps([[i.id, list(i.prompt), i.answer] for i in items], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def source_record(rows: Rows, source: DataSource, name: str) -> dict:
    """What the manifest records about a table split: enough to read its rows again."""
    record = {
        "format": rows.format,
        "columns": dict(source.columns or {}),
        "template": source.user_template,
        "split": source.split or (name if rows.format == "datasets" else None),
        "encoding": source.encoding if rows.format in ("csv", "tsv", "jsonl") else None,
        "file_sha256": rows.file_sha256,
        "hub": source.hub,
        "revision": source.revision,
    }
    return {k: v for k, v in record.items() if v is not None}


def recorded_inputs(summary: dict, name: str = "test") -> tuple[dict[str, str], str | None]:
    """item id -> user turn of a table split a run recorded (the report's example inputs), or why there are none."""
    record = summary.get("source") or {}
    if record.get("hub"):
        return {}, f"the {name} split came from the hub ({record['hub']}); its inputs are not read again"
    path = Path(summary.get("path", ""))
    try:
        source = DataSource(
            path=str(path),
            format=record.get("format"),
            columns=record.get("columns"),
            template=record.get("template"),
            encoding=record.get("encoding") or "utf-8",
            split=record.get("split") if record.get("format") == "datasets" else None,
        )
        rows = read_rows(name, source, path)
    except (BenchError, ValueError) as exc:
        return {}, f"the {name} table {path} cannot be read again ({str(exc).splitlines()[0]})"
    if record.get("file_sha256") and rows.file_sha256 != record["file_sha256"]:
        return {}, f"the {name} table {path} has changed since the run"
    inputs, ignored = {}, []
    id_column = source.columns.get("id") if source.columns else None
    for number, row in rows.records:
        fields = row_fields(rows, number, row, source, ignored)
        if fields is not None:  # the run validated this table; a bad row here only costs one example's input
            item_id = _text(row.get(id_column)).strip() if id_column else f"{name}-{number}"
            inputs[item_id] = source.user_template.format_map(fields)
    return inputs, None
