"""`bench report RUN_DIR` and `bench report --compare RUN_A RUN_B`."""

from __future__ import annotations

import argparse

from harness.core.errors import BenchError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the stakeholder report (HTML + Markdown summary) of a run, or compare two runs",
        description="Write RUN_DIR/report.html, one self-contained page (recommendation, every variant with\n"
        "intervals, plots, fixed and broken items, failure modes, data, manifest), and RUN_DIR/summary.md,\n"
        "short enough for a pull-request comment. With --compare, the same view across two runs.",
        epilog="examples:\n  bench report reports/legal/20250101-120000\n"
        "  bench report --compare reports/legal/before reports/legal/after",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", nargs="?", help="run folder written by `bench run`")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("RUN_A", "RUN_B"),
        help="compare two run folders; writes RUN_B/compare-<RUN_A>.html and .md unless --out is given",
    )
    parser.add_argument("--out", help="with --compare: where to write the HTML (the .md goes beside it)")
    parser.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from harness.cli.console import EXIT_OK, console
    from harness.report import write_comparison, write_report

    if bool(args.run_dir) == bool(args.compare):
        raise BenchError(
            "give either one run folder or --compare RUN_A RUN_B",
            hint="bench report reports/<suite>/<timestamp>   or   bench report --compare RUN_A RUN_B",
        )
    if args.compare:
        path = write_comparison(args.compare[0], args.compare[1], args.out)
    else:
        if args.out:
            raise BenchError("--out is for --compare; a run's report is always written into its run folder")
        path = write_report(args.run_dir)
    console.print(
        f"report: [bold]{path}[/] (summary: {path.with_suffix('.md') if args.compare else path.parent / 'summary.md'})"
    )
    return EXIT_OK
