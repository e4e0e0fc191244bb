"""`bench track RUN_DIR [--mlflow URI]`: log a finished run to MLflow, e.g. after `bench run --mlflow` warned."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "track",
        help="log a finished run folder to MLflow (one run, one nested run per variant)",
        description="Log RUN_DIR to MLflow as `bench run --mlflow` does: one parent run with the resolved suite,\n"
        "report.html, results.json and manifest.json; one nested run per variant with its settings, every\n"
        "metric with its interval, its cost, its training curves and its adapter. The run ids go into the\n"
        "manifest. Needs the tracking extra: pip install 'bench-harness[tracking]' (docs/tracking.md).",
        epilog="examples:\n  bench track reports/legal_classifier/20261201-120000\n"
        "  bench track reports/legal_classifier/20261201-120000 --mlflow http://mlflow.internal:5000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", help="run folder written by `bench run`")
    parser.add_argument(
        "--mlflow",
        metavar="URI",
        default="",
        help="tracking URI (default: the suite's tracking.mlflow.uri, else sqlite:///<run folder's parent>/mlflow.db)",
    )
    parser.set_defaults(func=cmd_track)


def cmd_track(args) -> int:
    from rich.markup import escape as _escape

    from harness.cli.console import EXIT_OK, EXIT_USAGE, console
    from harness.tracking import require_mlflow, track_run

    require_mlflow()
    entry = track_run(
        args.run_dir,
        cli_uri=args.mlflow,
        say=lambda msg: console.print(_escape(msg), highlight=False, soft_wrap=True),
        warn=lambda msg: console.print("[yellow]warning:[/] " + _escape(msg), highlight=False, soft_wrap=True),
    )
    # Here tracking is the whole job: a store that refuses it is a problem with the environment (exit 2).
    return EXIT_OK if entry is not None else EXIT_USAGE
