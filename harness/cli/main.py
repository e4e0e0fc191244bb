"""The `bench` command: a thin layer over the Python API.

Exit codes, one meaning each:
    0  success
    1  the gate found a regression
    2  bad usage, suite, data or environment (the message says what to fix)
    3  the run finished but a variant failed (its error is in results.json)
  130  interrupted (Ctrl-C); finished variants are kept and a rerun reuses them
   70  bench itself failed (a bug): one line, the traceback in crash.log (run folder, else a temporary file)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness import __version__
from harness.cli.console import EXIT_CRASH, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_VARIANT_FAILED, console
from harness.core import quiet
from harness.core.errors import BenchError
from harness.core.trust import ALLOW_PATHS_ENV, TRUST_REMOTE_CODE_ENV, Trust


def cmd_run(args) -> int:
    from harness.run.recipe import run_suite

    if args.mlflow is not None:
        from harness.tracking import require_mlflow

        require_mlflow()  # a missing extra is found now, not after the training
    if args.address and args.executor != "ray":
        raise BenchError("--address names a Ray cluster: it goes with --executor ray")
    result = run_suite(
        args.suite,
        args.out,
        console=console,
        only=args.only,
        store_dir=args.store,
        trust=granted_trust(args),
        seeds=args.seeds,
        executor=args.executor,
        address=args.address,
        threads=args.threads,
    )
    write_run_report(result)
    track_run_records(result.run_dir, args.mlflow)
    print_summary(result.results)
    console.print("wall time: " + ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in result.stages.items()))
    console.print(f"run folder: [bold]{result.run_dir}[/]")
    if (session := quiet.active()) and session.log.count and not session.verbose:
        console.print(
            f"library messages: {session.log.path} (bench -v shows them here)", highlight=False, soft_wrap=True
        )
    if args.gate:
        from harness.gate import gate_run

        outcome = gate_run(result.run_dir, baseline_path=args.baseline, console=console)
        if outcome.exit_code != EXIT_OK:
            return outcome.exit_code
    if result.failed:
        console.print(f"[red]variants failed:[/] {', '.join(result.failed)} (see results.json)")
        return EXIT_VARIANT_FAILED
    return EXIT_OK


def write_run_report(result) -> None:
    """The report, after the run: it reads only what the run wrote. Its seconds join the manifest's stages."""
    import time

    from harness.records.write import record_stages
    from harness.report import write_report

    started = time.perf_counter()
    report = write_report(result.run_dir)
    result.stages["report"] = time.perf_counter() - started
    result.stages["total"] += result.stages["report"]
    record_stages(result.run_dir, result.stages)
    console.print(f"report: {report}")


def track_run_records(run_dir: Path, cli_uri: str | None) -> None:
    """MLflow, when --mlflow or the suite's tracking: block asks, once every record is written (docs/tracking.md).
    A failure is a warning: the run folder is the source of truth, and the exit code stays the run's."""
    from harness.tracking import track_run

    track_run(
        run_dir,
        cli_uri=cli_uri,
        say=lambda msg: console.print(_escape(msg), highlight=False, soft_wrap=True),
        warn=lambda msg: console.print("[yellow]warning:[/] " + _escape(msg), highlight=False, soft_wrap=True),
    )


def cmd_validate(args) -> int:
    from harness.data.splits import load_suite_data
    from harness.model.provision import check_suite_model
    from harness.suite import load_suite
    from harness.tasks import task_from_spec
    from harness.variants.base import variant_configs

    suite = load_suite(args.suite, variant_configs(), granted_trust(args))
    spec = suite.spec
    check_suite_model(suite)
    splits = load_suite_data(suite, task_from_spec(spec.task), warn=console.print)
    console.print(
        f"[green]ok[/] {args.suite}: suite '{spec.name}', {len(spec.variants)} variant(s): "
        + ", ".join(v.name for v in spec.variants)
    )
    for name, split in splits.items():
        carved = (split.source or {}).get("carved_from")
        stratified = "stratified, " if (split.source or {}).get("stratified") else ""
        how = f", carved from {carved} ({split.source['share']:.0%}, {stratified}seed {spec.seed})" if carved else ""
        console.print(f"  {name}: {len(split.items)} items, sha256 {split.sha256[:12]}{how}")
    return EXIT_OK


def _thread_count(text: str) -> int:
    """--threads: a whole number, 1 or more (argparse reports anything else and exits 2)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of threads, 1 or more, not {text!r}")
    return int(text)


def granted_trust(args) -> Trust:
    """What this command line (and the environment) grants a suite: see docs/security.md."""
    return Trust.granted(remote_code=args.trust_remote_code, allow_paths=args.allow_path or ())


def add_trust_flags(parser: argparse.ArgumentParser) -> None:
    """Grants only the person running bench can give; a suite may ask for them but never give them itself."""
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help=f"let a suite that sets base_model.trust_remote_code run the model's own code (or {TRUST_REMOTE_CODE_ENV}=1)",
    )
    parser.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help=f"let the suite read data, corpora and model folders under DIR, outside its own folder; "
        f"repeatable (or {ALLOW_PATHS_ENV}=DIR1:DIR2)",
    )


def cmd_models(args) -> int:
    from harness.model import provision

    if args.models_command == "pull":
        path = provision.pull(args.name, progress=lambda msg: console.print(msg))
        console.print(f"[green]ready[/] {args.name}: {path}")
    else:
        table = Table("alias", "pulled", "path", "description")
        for row in provision.list_models():
            table.add_row(row["name"], "yes" if row["pulled"] else "no", row["path"], row["description"])
        Console().print(table)
    return EXIT_OK


def cmd_schema(args) -> int:
    from harness.suite.json_schema import suite_json_schema
    from harness.variants.base import variant_configs

    text = json.dumps(suite_json_schema(variant_configs()), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def print_summary(results: dict) -> None:
    from harness.records import Cost
    from harness.tasks import measures_for

    task = measures_for(results["task"].get("type"))
    metrics = task.columns  # the task's own: accuracy and macro-F1, field F1 and parse rate, pass rate and ROUGE-L...
    table = Table(title=f"{results['suite']['name']}: {results['task']['n_test_items']} test items")
    headers = ["variant", "kind"] + [m.label for m in metrics] + ["train s", "infer s", "peak MB"]
    for column in headers:
        table.add_column(column, justify="left" if column in ("variant", "kind") else "right")
    # A seeded variant's row is its mean over seeds; its members (<name>-seed<k>) are in the report's
    # "Training seeds" section, not one row each here.
    members = {entry["variant"] for record in results["variants"].values() for entry in record.get("seeds") or []}
    for name, record in results["variants"].items():
        if name in members:
            continue
        if record.get("seeds"):
            record = {**record, "kind": f"{record['kind']} ({len(record['seeds'])} seeds)"}
        if record["status"] != "ok":
            table.add_row(
                name, record["kind"], f"[yellow]{record['status']}[/]: {record['reason']}", *[""] * (len(headers) - 3)
            )
            continue
        m, c = record["metrics"], Cost.from_json(record["cost"])
        table.add_row(
            name,
            record["kind"],
            *[_summary_cell(m.get(measure.key), measure, c) for measure in metrics],
            f"{c.train_seconds or 0:.1f}",
            f"{c.infer_seconds:.1f}",
            f"{c.peak_rss_mb:.0f}",
        )
    Console(width=max(Console().width, 120)).print(table)


def _summary_cell(metric: dict | None, measure, cost) -> str:
    if measure.key == "format_compliance" and not cost.format_measured:
        # Rank scoring and classical classifiers pick a label: their answers are well-formed by construction.
        return f"n/a ({cost.inference_mode})"
    if not metric or metric.get("value") is None:
        return "-"
    if measure.shown_as == "share" or metric.get("ci_low") is None:
        return f"{metric['value']:.3f}"
    return f"{metric['value']:.3f} [{metric['ci_low']:.3f}, {metric['ci_high']:.3f}]"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench",
        description="Evaluate fine-tuned language models against baselines, on the same items with the same prompt.",
    )
    parser.add_argument("--version", action="version", version=f"bench {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show the libraries' warnings, notices and progress bars here too (bench run keeps them in bench.log)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="train and score every variant of a suite",
        description="Train and score every "
        "variant of a suite on its test items; writes manifest.json, results.json and samples.jsonl. "
        "Finished variants are reused when you rerun.",
    )
    run.add_argument("suite", help="suite YAML, e.g. suites/legal_classifier.yaml")
    run.add_argument("--out", help="run folder (default: reports/<suite>/<timestamp>)")
    run.add_argument("--only", nargs="+", metavar="VARIANT", help="run only these variants")
    run.add_argument(
        "--threads",
        type=_thread_count,
        metavar="N",
        help="torch threads (default: $BENCH_THREADS, else the CPUs this process may use: "
        "its affinity mask and cgroup quota; docs/suites.md, 'Threads')",
    )
    run.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help="train every trained variant N times, one seed each (over the suite's seeds:); "
        "its result is the mean over seeds (docs/suites.md, 'Seeds')",
    )
    run.add_argument(
        "--store",
        metavar="DIR",
        help="variant store: finished variants reused across runs "
        "(default: $BENCH_STORE, else ~/.cache/bench/store; entries are sealed with ~/.config/bench/store.key)",
    )
    run.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="local: variants one after another in this process; ray: each variant a Ray task, "
        "with the suite's execution: resources (pip install 'bench[ray]'; docs/scale.md)",
    )
    run.add_argument(
        "--address",
        metavar="ADDR",
        help="with --executor ray: the cluster to join (auto, HOST:6379, ray://HOST:10001); "
        "default $RAY_ADDRESS, else a local cluster on this machine",
    )
    run.add_argument(
        "--gate", action="store_true", help="then gate the run against its baseline (exit 1 on a regression)"
    )
    run.add_argument("--baseline", help="baseline file for --gate (default: baselines/<suite>.json)")
    run.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        metavar="URI",
        help="then log the run to MLflow, one nested run per variant (put it after the suite; without URI: the "
        "suite's tracking.mlflow.uri, else sqlite:///<run folder's parent>/mlflow.db; docs/tracking.md)",
    )
    # also after the command (bench run SUITE -v); SUPPRESS keeps a `bench -v run` from being reset to False
    run.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    add_trust_flags(run)
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check a suite and its data without running anything")
    validate.add_argument("suite")
    add_trust_flags(validate)
    validate.set_defaults(func=cmd_validate)

    models = sub.add_parser("models", help="list or fetch base models")
    models_sub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    pull = models_sub.add_parser("pull", help="download and convert a model alias into the cache")
    pull.add_argument("name", help="alias, e.g. smollm2-135m-instruct")
    models_sub.add_parser("list", help="known aliases and whether they are cached")
    models.set_defaults(func=cmd_models)

    schema = sub.add_parser("schema", help="print the suite JSON Schema (for editors)")
    schema.add_argument("--out", help="write to this file instead of stdout")
    schema.set_defaults(func=cmd_schema)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


# One module per command group; each defines ``register(subparsers)`` and handlers that return an exit code.
COMMAND_MODULES: list[str] = [
    "harness.cli.report",
    "harness.cli.package",
    "harness.cli.serve",
    "harness.cli.data",
    "harness.cli.gate",
    "harness.cli.track",
]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # A run's console is bench's own: the libraries' chatter goes to the run folder's bench.log (core/quiet.py),
    # routed before the libraries are imported, since some read their settings then.
    quieted = args.command == "run"
    with quiet.quiet_console(verbose=args.verbose, libraries=True) if quieted else contextlib.nullcontext():
        try:
            return args.func(args)
        except BenchError as exc:
            console.print("[bold red]error:[/] " + _escape(str(exc)), highlight=False, soft_wrap=True)
            return EXIT_USAGE
        except KeyboardInterrupt:
            console.print(
                "\n[yellow]interrupted.[/] Finished variants are saved; run the same command again to resume."
            )
            return EXIT_INTERRUPTED
        except Exception as exc:  # a bug in bench, not bad input: its own exit code, never the gate's 1
            return _crashed(exc, argv if argv is not None else sys.argv[1:])


def _crashed(exc: Exception, argv: list[str]) -> int:
    from harness.core.crashlog import write_crash_log

    log = write_crash_log(exc, list(argv))
    summary = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    console.print(
        f"[bold red]internal error[/] (a bug in bench, exit {EXIT_CRASH}): {_escape(summary)}; traceback in {log}",
        highlight=False,
        soft_wrap=True,
    )
    return EXIT_CRASH


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


if __name__ == "__main__":
    # ``python -m harness.cli.main`` (tests, benchmarks/onednn_cache.py): the bench command's settings, on the
    # allocator this interpreter started with, as before the settings moved to core/startup.py
    from harness.core.startup import start_like_bench

    start_like_bench(None)
    sys.exit(main())
