"""`bench data import TABLE... --text COL --label COL`: chat JSONL files and a suite skeleton from tables.

For users who want files they can read, diff and edit rather than a table named
in the suite. The rows go through the same reader a suite's table entry uses
(``harness.data.tables``), so an imported file holds exactly the items a run
on the table would; the skeleton is validated, with its data, before the
command says it is done.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.core.errors import BenchError
from harness.core.files import atomic_write_text
from harness.data.splits import SPLITS, carve_validation, find_overlap, read_table_split
from harness.tasks.data_spec import DEFAULT_VALIDATION_SHARE, RESERVED_KEYS, DataSource

SKELETON_VARIANTS = {
    "classification": [
        "{name: tfidf, kind: tfidf}                 # the classical baseline a fine-tune must beat",
        "{name: zero-shot, kind: zero_shot}",
        "{name: few-shot, kind: few_shot, shots: 4}",
        "{name: lora, kind: lora, r: 16, alpha: 32}",
    ],
    "generation": [
        "{name: zero-shot, kind: zero_shot}",
        "{name: few-shot, kind: few_shot, shots: 2}",
        "{name: lora, kind: lora, r: 16, alpha: 32}",
    ],
}


def register(actions, split_name) -> None:
    imp = actions.add_parser(
        "import",
        help="write chat JSONL files and a suite skeleton from a CSV/TSV/Parquet/JSONL table or datasets folder",
        description="Read tables (CSV, TSV, Parquet, JSONL rows, or a datasets folder from save_to_disk), turn each "
        "row into a chat item (the input columns as the user turn, the label as the answer), and write "
        "data/<split>.jsonl and suite.yaml into --out. With train and test only, a stratified validation split "
        "is carved from train (--validation-share, seeded by --seed). Nothing in --out is overwritten.",
        epilog="TABLE may be SPLIT=PATH (test=data/test.csv); otherwise the split is read from the file name "
        "(train, val/validation/dev, test). A datasets folder brings its own splits.",
    )
    imp.add_argument("tables", nargs="+", metavar="TABLE", help="tables or a datasets folder")
    imp.add_argument("--text", action="append", required=True, metavar="COL", help="input column; repeat for several")
    answer = imp.add_mutually_exclusive_group(required=True)
    answer.add_argument("--label", metavar="COL", help="label column (a classification task)")
    answer.add_argument("--target", metavar="COL", help="reference-answer column (a generation task)")
    imp.add_argument("--id", metavar="COL", help="item id column (default: <split>-<row>)")
    imp.add_argument("--template", help="the user turn, input columns as {COL} (needed with several --text)")
    imp.add_argument("--answer-format", default="{label}", help="classification answer form, e.g. 'intent: {label}'")
    imp.add_argument("--format", choices=["csv", "tsv", "parquet", "jsonl", "datasets"], help="default: from the name")
    imp.add_argument("--encoding", default="utf-8", help="text encoding of CSV/TSV/JSONL tables (default utf-8)")
    imp.add_argument(
        "--validation-share",
        type=float,
        default=DEFAULT_VALIDATION_SHARE,
        help="share of train carved as validation when no validation table is given; 0: none (default %(default)s)",
    )
    imp.add_argument("--seed", type=int, default=0, help="the suite seed; also seeds the carving (default 0)")
    imp.add_argument("--name", help="suite name (default: from the table's name)")
    imp.add_argument("--out", metavar="DIR", help="output folder (default: ./<name>)")
    imp.set_defaults(func=cmd_data_import, split_name=split_name)


def cmd_data_import(args) -> int:
    from rich.console import Console

    from harness.tasks import ClassificationTaskRules

    console = Console(stderr=True)
    tables = _tables(args)
    source = _source(args)
    task_type = "classification" if args.label else "generation"
    if "{label}" not in args.answer_format:
        raise BenchError("--answer-format must contain '{label}'")

    # Labels come from the data: read once leniently to collect them, then as the suite will read them.
    labels = _labels(tables, source) if args.label else []
    if args.label and len(labels) < 2:
        raise BenchError(f"column '{args.label}' holds {len(labels)} distinct label(s); classification needs two")
    task = (
        ClassificationTaskRules(labels=tuple(labels), answer_format=args.answer_format) if args.label else _FreeText()
    )
    splits = {}
    for name, (path, split) in tables.items():
        entry = source.model_copy(update={"split": split}) if split else source
        splits[name] = read_table_split(name, entry, path, task)
    if "test" not in splits:
        raise BenchError("no test table: every suite is scored on one", hint="name it: test=PATH")
    if "validation" not in splits and "train" in splits and args.validation_share:
        splits["train"], splits["validation"] = carve_validation(
            splits["train"], args.validation_share, args.seed, task
        )

    name = args.name or _default_name(next(iter(tables.values()))[0], args.split_name)
    out = Path(args.out or name)
    files = {split: out / "data" / f"{split}.jsonl" for split in SPLITS if split in splits}
    suite_file = out / "suite.yaml"
    existing = [str(p) for p in [*files.values(), suite_file] if p.exists()]
    if existing:
        raise BenchError(f"would overwrite {', '.join(existing)}", hint="choose another --out, or remove them")
    for split, file in files.items():
        atomic_write_text(file, "".join(_chat_line(item) for item in splits[split].items))
    sources = ", ".join(str(path) for path, _ in tables.values())
    leaked = len(find_overlap(splits))
    atomic_write_text(suite_file, _skeleton(name, task_type, labels, args, files, out, sources, leaked))

    for split, file in files.items():
        carved = " (carved from train)" if (splits[split].source or {}).get("carved_from") else ""
        console.print(f"wrote {file}: {len(splits[split].items)} items{carved}")
    if leaked:
        console.print(f"[yellow]warning[/]: {leaked} item(s) appear in two splits; the skeleton sets leakage: warn")
    console.print(f"wrote {suite_file}: a skeleton; set its system prompt, then: bench validate {suite_file}")
    _check_skeleton(suite_file)
    return 0


def _tables(args) -> dict[str, tuple[Path, str | None]]:
    """split -> (path, split inside a datasets folder)."""
    tables: dict[str, tuple[Path, str | None]] = {}
    for text in args.tables:
        name, sep, rest = text.partition("=")
        if sep and name and rest and not Path(text).exists():
            chosen, path = name, Path(rest)
        else:
            path = Path(text)
            chosen = None
        if chosen is None and path.is_dir() and args.format in (None, "datasets"):
            for split in _folder_splits(path):
                tables[_canonical_split(split, args.split_name)] = (path, split)
            continue
        chosen = chosen or args.split_name(path)
        if chosen not in SPLITS:
            raise BenchError(
                f"cannot tell which split {path} is (read '{chosen}')",
                hint="name it: train=PATH, validation=PATH or test=PATH",
            )
        if chosen in tables:
            raise BenchError(f"two tables for the split '{chosen}'", hint="name them explicitly: SPLIT=PATH")
        tables[chosen] = (path, None)
    return tables


def _folder_splits(path: Path) -> list[str]:
    from harness.core.errors import require

    datasets = require("datasets", feature="datasets folders")
    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError):
        raise BenchError(f"{path} is not a datasets folder", hint="write one with save_to_disk") from None
    if not hasattr(loaded, "keys"):
        raise BenchError(f"{path} holds one dataset, not splits", hint="name its split: test=PATH")
    return list(loaded.keys())


def _canonical_split(split: str, split_name) -> str:
    chosen = split_name(Path(split))
    if chosen not in SPLITS:
        raise BenchError(f"the datasets folder has a split '{split}'; bench reads train, validation and test")
    return chosen


def _source(args) -> DataSource:
    if len(args.text) == 1:
        inputs = {"text": args.text[0]}
    else:
        bad = [c for c in args.text if not c.isidentifier() or c in RESERVED_KEYS]
        if bad:
            raise BenchError(f"input column '{bad[0]}' cannot be a template field name", hint="rename the column")
        inputs = {c: c for c in args.text}
    answer = {"label": args.label} if args.label else {"target": args.target}
    ident = {"id": args.id} if args.id else {}
    try:
        return DataSource(
            path="table",  # each table's own path is passed when it is read
            format=args.format,
            columns={**inputs, **answer, **ident},
            template=args.template,
            encoding=args.encoding,
        )
    except ValueError as exc:  # pydantic's ValidationError
        messages = [e["msg"].removeprefix("Value error, ") for e in getattr(exc, "errors", lambda: [])()]
        raise BenchError("; ".join(messages) or str(exc)) from None


def _labels(tables: dict, source: DataSource) -> list[str]:
    from harness.data.tables import is_missing, read_rows

    found: set[str] = set()
    column = source.columns["label"]
    for name, (path, split) in tables.items():
        rows = read_rows(name, source.model_copy(update={"split": split}) if split else source, path)
        if column not in rows.columns:
            raise BenchError(f"{rows.where}: no column '{column}' (columns: {', '.join(rows.columns)})")
        found |= {str(row[column]).strip() for _, row in rows.records if not is_missing(row.get(column))}
    return sorted(found)


class _FreeText:
    """A generation task's reading of a gold answer: any non-empty text."""

    needs_label = False

    def label_of(self, answer: str) -> None:
        return None

    def check_gold(self, answer: str) -> str | None:
        return None if answer.strip() else "expected non-empty text"


def _chat_line(item) -> str:
    messages = [*item.prompt_messages(), {"role": "assistant", "content": item.answer}]
    return json.dumps({"id": item.id, "messages": messages}, ensure_ascii=False) + "\n"


def _default_name(path: Path, split_name) -> str:
    stem = path.name.split(".")[0]
    base = path.resolve().parent.name if split_name(path) in SPLITS and not path.is_dir() else stem
    return re.sub(r"[^A-Za-z0-9_-]+", "_", base).strip("_") or "imported"


def _skeleton(
    name: str, task_type: str, labels: list[str], args, files: dict, out: Path, sources: str, leaked: int
) -> str:
    data = "\n".join(f"    {split}: {file.relative_to(out).as_posix()}" for split, file in files.items())
    if task_type == "classification":
        answer = args.answer_format.replace("{label}", "<label>")
        prompt = f"Classify the text. Answer exactly '{answer}', where <label> is one of: {', '.join(labels)}."
        task = (
            f"  type: classification\n  labels: {json.dumps(labels, ensure_ascii=False)}\n"
            f"  answer_format: {json.dumps(args.answer_format)}\n"
            f"  system_prompt: {json.dumps(prompt, ensure_ascii=False)}\n"
        )
    else:
        task = '  type: generation\n  system_prompt: "Answer the request."   # say what a good answer is\n'
    if leaked:
        task += f"  leakage: warn   # {leaked} item(s) appear in two splits; `bench data check` lists them\n"
    variants = "\n".join(f"  - {v}" for v in SKELETON_VARIANTS[task_type])
    return (
        f"# Written by `bench data import` from {sources}.\n"
        "# A starting point: write the system prompt your task needs, choose the variants, then\n"
        f"#   bench validate {out / 'suite.yaml'}\n"
        f"schema_version: 1\nname: {name}\nseed: {args.seed}\n"
        f"task:\n{task}  data:\n{data}\n"
        "base_model:\n  name: smollm2-135m-instruct\n"
        f"variants:\n{variants}\n"
    )


def _check_skeleton(suite_file: Path) -> None:
    """The skeleton and its files read as a suite (the data checks included): a broken import says so now."""
    from harness.data.splits import load_suite_data
    from harness.suite import load_suite
    from harness.tasks import task_from_spec
    from harness.variants.base import variant_configs

    suite = load_suite(suite_file, variant_configs())
    load_suite_data(suite, task_from_spec(suite.spec.task), warn=lambda *_: None)
