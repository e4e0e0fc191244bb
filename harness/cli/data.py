"""`bench data check FILE...`: the command line over ``check_data``.

Exit codes: 0 clean; 1 problems found (any error or warning; see the report);
2 an input could not be read or the arguments are wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli import data_import
from harness.core.errors import BenchError
from harness.datacheck.checks import CheckOptions, check_data
from harness.variants.base import variant_configs

SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
    "eval": "test",
}


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="check training and test data; import tables as chat JSONL")
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate format; find duplicates, leakage, imbalance, length outliers",
        description="Check chat JSONL files: each line as `bench run` reads it, exact and near-duplicates within a "
        "file, leakage of validation/test inputs into training data (word n-gram overlap), label "
        "distribution and imbalance, length outliers. Exit code 0: clean; 1: problems found; "
        "2: unreadable input. --fix writes cleaned copies and never edits the inputs.",
        epilog="FILE may be SPLIT=PATH (train=data/a.jsonl); otherwise the split is read from the file name "
        "(train, val/validation/dev, test), else the name itself is used.",
    )
    check.add_argument("files", nargs="*", metavar="FILE", help="chat JSONL files")
    check.add_argument("--suite", help="check the data a suite names, with its label set")
    check.add_argument("--labels", nargs="+", metavar="LABEL", help="the label set, when not using --suite")
    check.add_argument(
        "--answer-format", default="{label}", help="the answer form, e.g. 'kind: {label}' (with --labels)"
    )
    check.add_argument("--ngram", type=int, default=CheckOptions.ngram, help="words per shingle (default %(default)s)")
    check.add_argument(
        "--near-threshold",
        type=float,
        default=CheckOptions.near_duplicate,
        help="Jaccard for near-duplicates within a file (default %(default)s)",
    )
    check.add_argument(
        "--leak-threshold",
        type=float,
        default=CheckOptions.leakage,
        help="share of an item's n-grams found in an earlier split that counts as leaked (default %(default)s)",
    )
    check.add_argument(
        "--max-imbalance",
        type=float,
        default=CheckOptions.max_imbalance,
        help="largest allowed ratio of the most to the least common label (default %(default)s)",
    )
    check.add_argument("--json", metavar="PATH", help="also write the report as JSON ('-' for stdout)")
    check.add_argument(
        "--fix", action="store_true", help="write cleaned copies (<name>.clean.jsonl) without the flagged lines"
    )
    check.add_argument("--out", metavar="DIR", help="folder for the cleaned copies (default: beside each input)")
    check.set_defaults(func=cmd_data_check)
    data_import.register(actions, split_name)


def split_name(path: Path) -> str:
    stem = path.name.split(".")[0].lower()
    for word in stem.replace("-", "_").split("_"):
        if word in SPLIT_WORDS:
            return SPLIT_WORDS[word]
    return stem


def parse_files(args) -> tuple[dict[str, Path], object]:
    """The files to check and the task that defines their answers."""
    from harness.tasks import ClassificationTaskRules

    files: dict[str, Path] = {}
    task = None
    if args.suite:
        from harness.suite import load_suite
        from harness.tasks import task_from_spec

        suite = load_suite(args.suite, variant_configs())
        task = task_from_spec(suite.spec.task)
        files.update(suite.data_files())
    for text in args.files:
        name, sep, path = text.partition("=")
        if sep and name and path and not Path(text).exists():  # SPLIT=PATH
            chosen, file = name, Path(path)
        else:
            file = Path(text)
            chosen = split_name(file)
        if chosen in files:
            raise BenchError(
                f"two files for the split '{chosen}': {files[chosen]} and {file}",
                hint="name them explicitly: SPLIT=PATH",
            )
        files[chosen] = file
    if not files:
        raise BenchError("nothing to check", hint="pass chat JSONL files, or --suite SUITE")
    if args.labels:
        if "{label}" not in args.answer_format:
            raise BenchError("--answer-format must contain '{label}'")
        task = ClassificationTaskRules(labels=tuple(args.labels), answer_format=args.answer_format)
    return files, task


def cmd_data_check(args) -> int:
    from rich.console import Console

    from harness.datacheck.fix import write_cleaned
    from harness.datacheck.report import render

    files, task = parse_files(args)
    options = CheckOptions(
        ngram=args.ngram,
        near_duplicate=args.near_threshold,
        leakage=args.leak_threshold,
        max_imbalance=args.max_imbalance,
    )
    report = check_data(files, task, options)
    render(report, Console(stderr=args.json == "-"))
    if args.json == "-":
        print(json.dumps(report.to_json(), indent=2))
    elif args.json:
        from harness.core.files import write_json

        write_json(Path(args.json), report.to_json())
    if args.fix:
        console = Console(stderr=True)
        for name, path in write_cleaned(report, args.out).items():
            console.print(f"cleaned {name}: {path} ({len(report.removals.get(name, {}))} line(s) left out)")
    return report.exit_code
