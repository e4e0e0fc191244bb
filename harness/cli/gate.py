"""``bench gate`` and ``bench baseline save``: thin wrappers over harness.gate."""

from __future__ import annotations

import argparse

from harness.cli.console import console


def cmd_gate(args) -> int:
    from harness.gate.evaluate import gate_run

    outcome = gate_run(
        args.run_dir,
        args.baseline,
        variant=args.variant,
        junit_path=args.junit,
        markdown_path=args.markdown,
        allow_changed_data=args.allow_changed_data,
        console=console,
        family_control=False if args.no_family_control else None,
    )
    return outcome.exit_code


def cmd_baseline_save(args) -> int:
    from harness.gate.baseline import save_baseline
    from harness.suite.gate_rules import GateSpec

    path, baseline = save_baseline(args.run_dirs, args.variant, args.out)
    task_type = (baseline.get("task") or {}).get("type") or "classification"
    gated = dict(GateSpec().drop_limits(task_type))  # the metrics its default rules check
    values = {name: (baseline["metrics"].get(name) or {}).get("value") for name in gated}
    shown = "".join(f", {name} {value:.3f}" for name, value in values.items() if value is not None)
    console.print(
        f"[green]saved[/] baseline for suite '{baseline['suite']['name']}', variant "
        f"'{baseline['variant']}' ({len(baseline['items'])} items{shown}) to [bold]{path}[/]"
    )
    runs = len(baseline["runs"])
    console.print(
        f"from {runs} run(s)"
        + (
            ": the gate measures how much whole runs differ and allows for it"
            if runs > 1
            else "; one run cannot show how much reruns differ as a whole: save from 3 or more for that"
        )
    )
    console.print("commit it; `bench gate RUN_DIR` compares later runs with it")
    return 0


def register(subparsers) -> None:
    gate = subparsers.add_parser(
        "gate",
        help="compare a run with its stored baseline; exit 1 on a regression",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare one variant of a finished run with baselines/<suite>.json, paired item by item, "
        "using the rules in the suite's gate: section.",
        epilog="exit codes: 0 pass (also inconclusive, unless the suite says inconclusive: fail), "
        "1 regression, 2 usage or configuration error (no baseline, unknown variant, changed test set).\n"
        "writes RUN_DIR/gate/junit.xml and RUN_DIR/gate/summary.md unless told otherwise. See docs/gate.md.",
    )
    gate.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder, e.g. reports/<suite>/<time>")
    gate.add_argument("--baseline", metavar="PATH", help="baseline file (default: baselines/<suite>.json)")
    gate.add_argument("--variant", metavar="NAME", help="variant of the run to gate (default: the baseline's)")
    gate.add_argument("--junit", metavar="PATH", help="JUnit XML output (default: RUN_DIR/gate/junit.xml)")
    gate.add_argument("--markdown", metavar="PATH", help="Markdown summary (default: RUN_DIR/gate/summary.md)")
    gate.add_argument(
        "--allow-changed-data",
        action="store_true",
        help="if the test set changed since the baseline, compare only the unchanged items "
        "instead of stopping with exit 2",
    )
    gate.add_argument(
        "--no-family-control",
        action="store_true",
        help="test each statistical rule at alpha on its own instead of Holm across the gate's rules "
        "(more false alarms with several rules; the suite's gate.family_control: none does the same)",
    )
    gate.set_defaults(func=cmd_gate)

    baseline = subparsers.add_parser("baseline", help="save a run's results as the baseline the gate compares with")
    actions = baseline.add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    save = actions.add_parser(
        "save",
        help="write baselines/<suite>.json from one variant of a run (or of several reruns)",
        description="Freeze one variant's per-item results, metrics, cost, probe scores and "
        "the run's manifest into a baseline file meant to be committed. Several run folders (reruns or "
        "seeds of the same suite) are each kept with their per-item results, and the gate then allows for "
        "how much whole runs differ (docs/gate.md, 'Between-run variance').",
    )
    save.add_argument(
        "run_dirs", metavar="RUN_DIR", nargs="+", help="finished run folder(s); several: reruns of the same suite"
    )
    save.add_argument("--variant", metavar="NAME", help="the variant to keep (needed when the run has several)")
    save.add_argument("--out", metavar="PATH", help="where to write (default: baselines/<suite>.json)")
    save.set_defaults(func=cmd_baseline_save)
