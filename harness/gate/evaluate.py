"""Gate a run against a baseline: pair the items, check every rule, decide the exit code.

    outcome = gate_run(run_dir)                 # baselines/<suite>.json, the baseline's variant
    outcome.exit_code                           # 0 pass (or inconclusive, unless the suite says fail), 1 regression

Usage and configuration problems (no baseline, unknown variant, a changed test
set) raise BenchError, which the CLI turns into exit code 2.
"""

from __future__ import annotations

import math
from difflib import get_close_matches
from pathlib import Path

from rich.console import Console

from harness.core.errors import BenchError
from harness.core.files import atomic_write_text, write_json
from harness.gate import rules
from harness.gate.baseline import baseline_runs, default_baseline_path, load_baseline
from harness.gate.outcome import GateOutcome, decide
from harness.gate.pairing import ItemOutcomes, Pairing, pair_items
from harness.gate.runs import GatedRun, read_run
from harness.stats import paired as stats
from harness.suite.gate_rules import GateSpec
from harness.tasks import metric_keys, metrics
from harness.tasks.base import metric as declared_metric


def evaluate_gate(
    run: GatedRun,
    baseline: dict,
    *,
    spec: GateSpec,
    variant: str | None = None,
    allow_changed_data: bool = False,
    baseline_path: str = "",
    family_control: bool | None = None,
) -> GateOutcome:
    """``family_control``: None follows the suite (``gate.family_control``), False turns Holm off."""
    variant = variant or baseline["variant"]
    record = run.variant(variant)
    if baseline["suite"]["name"] != run.suite_name:
        raise BenchError(
            f"the baseline {baseline_path} is for suite '{baseline['suite']['name']}', "
            f"the run for suite '{run.suite_name}'",
            hint=f"pass --baseline {default_baseline_path(run.suite_name)}, or save one for this suite",
        )
    pairing = pair_items(baseline["items"], run.items(variant))
    notes = _check_data(run, baseline, pairing, allow_changed_data)
    if pairing.shared == 0:
        raise BenchError(
            "the run and the baseline share no items (same id and content)",
            hint="save a new baseline from a run on this test set",
        )

    labels = run.labels or list((baseline.get("task") or {}).get("labels") or [])
    floors, drops = spec.floors.limits(), spec.drop_limits(run.task_type)
    _check_metrics(run.task_type, [metric for metric, _ in floors + drops])
    for metric, _ in drops:
        metrics.require_rows(metric, baseline["items"], f"the baseline {baseline_path}")
        _require_finite_rows(metric, baseline["items"], str(baseline_path))
    run_rows = run.items(variant)
    for metric, _ in floors + drops:
        metrics.require_rows(metric, run_rows, f"run {run.path}")
        _require_finite_rows(metric, run_rows, f"{run.path}/samples.jsonl (variant {variant})")
    run_all = ItemOutcomes.from_rows(run_rows)
    checks: list[rules.Check] = []
    for metric, floor in floors:
        base_value = (baseline.get("metrics", {}).get(metric) or {}).get("value")
        checks.append(
            rules.check_floor(
                metric, floor, run_all, labels, alpha=spec.alpha, seed=run.seed, baseline_value=base_value
            )
        )
    runs_k = baseline_runs(baseline)
    if len(runs_k) < spec.min_baseline_runs:
        raise BenchError(
            f"the baseline {baseline_path} was saved from {len(runs_k)} run(s); the suite's gate asks for at least "
            f"{spec.min_baseline_runs} (gate.min_baseline_runs)",
            hint="save it from several reruns or seeds: bench baseline save RUN_DIR RUN_DIR2 RUN_DIR3 --variant NAME",
        )
    more_runs = [_pair_same(pairing, rows, k, baseline_path, run_rows) for k, rows in enumerate(runs_k[1:], 1)]
    for metric, _ in drops:
        for k, rows in enumerate(runs_k[1:], 1):
            metrics.require_rows(metric, rows, f"the baseline {baseline_path} (runs[{k}])")
            _require_finite_rows(metric, rows, f"{baseline_path} runs[{k}]")
    for metric, allowed in drops:
        checks.append(
            rules.check_drop(metric, allowed, pairing, labels, alpha=spec.alpha, seed=run.seed, more_runs=more_runs)
        )
    checks += _forgetting_checks(run, baseline, variant, spec)
    baseline_cost = baseline.get("cost") or {}
    for name, limit in spec.cost_limits.limits():
        checks.append(
            rules.check_cost(name, limit, (record.get("cost") or {}).get(name), baseline_value=baseline_cost.get(name))
        )

    control = "none" if family_control is False else spec.family_control
    if control == "holm":
        checks = rules.holm(checks, spec.alpha)
    family = sum(rules.is_statistical(c) for c in checks)

    reuse = _reuse(run, variant)
    notes.append(reuse.pop("note"))
    if len(runs_k) == 1 and drops:
        notes.append(
            "the baseline holds one run: the drop rules assume reruns differ only item by item. A whole-run shift "
            "(retraining with another seed) is not measured, so their false-alarm rate can exceed alpha (4.8% at "
            "a run-level SD of 1.1 points, n = 300); save the baseline from 3 or more runs "
            "(bench baseline save RUN1 RUN2 RUN3) to measure it (docs/gate.md, 'Between-run variance')"
        )
    verdict, exit_code = decide(checks, spec.inconclusive)
    return GateOutcome(
        verdict=verdict,
        exit_code=exit_code,
        checks=checks,
        suite=run.suite_name,
        variant=variant,
        baseline_variant=baseline["variant"],
        baseline_path=baseline_path,
        run_dir=str(run.path),
        alpha=spec.alpha,
        inconclusive_policy=spec.inconclusive,
        family=family,
        family_control=control,
        comparison={
            **_comparison(run, baseline, pairing, spec),
            "reused": reuse,
            "baseline_runs": len(runs_k),
            "between_run_sd": {c.subject: c.between_run_sd for c in checks if c.between_run_sd is not None},
            "drop_mdd": {c.subject: c.mdd for c in checks if c.kind == "drop"},
        },
        notes=notes,
    )


def _pair_same(first: Pairing, rows: list[dict], k: int, baseline_path: str, run_rows: list[dict]) -> Pairing:
    """The run paired with baseline run k, on exactly the items it shares with the first baseline run."""
    shared = {str(row["item_id"]) for row in first.run.rows}
    pairing = pair_items(rows, [row for row in run_rows if str(row["item_id"]) in shared])
    if pairing.shared != first.shared:
        raise BenchError(
            f"{baseline_path}: runs[{k}] does not hold the items runs[0] holds ({pairing.shared} of "
            f"{first.shared} shared items pair)",
            hint="save the baseline again: bench baseline save RUN_DIR ... --variant NAME",
        )
    return pairing


def _require_finite_rows(metric: str, rows: list[dict], where: str) -> None:
    """A per-item score that is NaN or infinite is an error naming the item and field, never a pass.

    ``require_rows`` only asks that the field be there; NaN is there, and every
    comparison with it is false, so one NaN ROUGE-L made a falling mean look fine.
    """
    key = declared_metric(metric).item_field

    def numbers(value):
        if isinstance(value, dict):
            for inner in value.values():
                yield from numbers(inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                yield from numbers(inner)
        elif isinstance(value, float):
            yield value

    for index, row in enumerate(rows):
        if any(not math.isfinite(number) for number in numbers(row.get(key))):
            raise BenchError(
                f"{where}: items[{index}] (item {row.get('item_id')}).{key} is {row.get(key)}, not a finite "
                f"number; the {metric} rule cannot be decided",
                hint="fix the scorer that wrote it and rerun (or save the baseline again from a good run)",
            )


def _reuse(run: GatedRun, variant: str) -> dict:
    """Which of the run's results were taken from the variant store rather than computed by this run,
    and from which store: a reviewer should know what the verdict rests on. The store checked each
    entry's seal before reusing it (run/store.py)."""
    variants = run.results.get("variants") or {}
    reused = [name for name, record in variants.items() if record.get("reused")]
    store = run.manifest.get("store") or "(not recorded: a run from before stores were sealed)"
    gated = "reused" if variant in reused else "computed in this run"
    note = (
        f"{len(reused)} of {len(variants)} variant result(s) reused from the store {store} "
        f"(sealed entries of an earlier run){': ' + ', '.join(reused) if reused else ''}; "
        f"the gated variant {variant} was {gated}"
    )
    return {"count": len(reused), "of": len(variants), "variants": reused, "store": store, "note": note}


def _check_metrics(task_type: str, named: list[str]) -> None:
    """Every rule names a metric this task type measures (macro_f1 needs labels; field F1 needs fields)."""
    known = metric_keys(task_type)
    for metric in named:
        if metric not in known:
            raise BenchError(
                f"the gate has a {metric} rule, but {task_type} tasks do not measure {metric}",
                hint=f"metrics of {task_type} tasks: {', '.join(known)} (see docs/gate.md)",
            )


def _check_data(run: GatedRun, baseline: dict, pairing: Pairing, allow_changed_data: bool) -> list[str]:
    """A changed test set is reported: an error unless allowed, then a note saying what was compared."""
    before = (baseline.get("test_data") or {}).get("sha256")
    now = run.test_data.get("sha256")
    counts = (
        f"{pairing.shared} items unchanged, {len(pairing.changed)} changed, "
        f"{len(pairing.only_run)} new, {len(pairing.only_baseline)} gone"
    )
    notes = []
    if before != now:
        if not allow_changed_data:
            raise BenchError(
                f"the test set changed since the baseline was saved (sha256 {str(before)[:12]} -> "
                f"{str(now)[:12]}): {counts}",
                hint="review the data change, then save a new baseline (bench baseline save RUN_DIR "
                "--variant NAME), or pass --allow-changed-data to compare only the unchanged items",
            )
        notes.append(
            f"test set changed (sha256 {str(before)[:12]} -> {str(now)[:12]}); "
            f"--allow-changed-data: compared only the unchanged items ({counts})"
        )
    elif not pairing.complete:
        # A verdict on part of the items could pass a regression on the rest (or rest on a baseline cut down
        # by hand), so it needs the same explicit consent as a changed test set.
        if not allow_changed_data:
            raise BenchError(
                f"the run and the baseline do not cover the same items ({counts}), e.g. a different test_limit "
                "or a baseline edited by hand; the gate compares complete sets only",
                hint="run with the baseline's test_limit, or save a new baseline from this run's settings, "
                "or pass --allow-changed-data to compare only the shared items",
            )
        notes.append(
            f"same test file, but not every item has a partner ({counts}); "
            f"--allow-changed-data: compared only the {pairing.shared} shared items"
        )
    return notes


def _forgetting_checks(run: GatedRun, baseline: dict, variant: str, spec: GateSpec) -> list[rules.Check]:
    if not spec.forgetting:
        return []
    recorded = set(run.results.get("probes") or {})
    mine = run.probes(variant)
    named = [name for name in spec.forgetting if name != "*"]
    unknown = [name for name in named if recorded and name not in recorded]
    if unknown:
        close = get_close_matches(unknown[0], recorded, n=1)
        raise BenchError(
            f"the gate's forgetting limits name probe(s) the run did not record: {', '.join(unknown)}"
            + (f"; did you mean '{close[0]}'?" if close else ""),
            hint=f"probes in this run: {', '.join(sorted(recorded))}",
        )
    probes = (named + sorted(p for p in mine if p not in named)) if "*" in spec.forgetting else named
    baseline_probes = baseline.get("probes") or {}
    checks = []
    for probe in probes:
        entry = mine.get(probe)
        if entry is None:
            entry = {
                "status": "unavailable",
                "reason": "the run has no probe results" if not recorded else f"no score for variant '{variant}'",
            }
        checks.append(
            rules.check_forgetting(
                probe,
                spec.forgetting_limit(probe),
                entry,
                alpha=spec.alpha,
                baseline_score=(baseline_probes.get(probe) or {}).get("score"),
            )
        )
    return checks


def _comparison(run: GatedRun, baseline: dict, pairing: Pairing, spec: GateSpec) -> dict:
    n10, n01 = stats.discordant_counts(pairing.baseline.correct, pairing.run.correct)
    margin = dict(spec.drop_limits(run.task_type)).get("accuracy") or 0.0
    mdd = stats.minimum_detectable_drop(pairing.shared, (n10 + n01) / pairing.shared, margin=margin, alpha=spec.alpha)
    return {
        "task_type": run.task_type,
        "shared_items": pairing.shared,
        "baseline_items": pairing.baseline_items,
        "run_items": pairing.run_items,
        "changed_items": len(pairing.changed),
        "new_items": len(pairing.only_run),
        "gone_items": len(pairing.only_baseline),
        "test_sha256_baseline": (baseline.get("test_data") or {}).get("sha256"),
        "test_sha256_run": run.test_data.get("sha256"),
        "accuracy_discordant": {"baseline_only_right": n10, "run_only_right": n01},
        "accuracy_mdd": mdd,
        "accuracy_mdd_margin": margin,
        "baseline_git_commit": (baseline.get("manifest") or {}).get("git_commit"),
        "run_git_commit": run.manifest.get("git_commit"),
        "baseline_saved": baseline.get("saved"),
    }


def gate_run(
    run_dir: str | Path,
    baseline_path: str | Path | None = None,
    *,
    variant: str | None = None,
    junit_path: str | Path | None = None,
    markdown_path: str | Path | None = None,
    allow_changed_data: bool = False,
    console: Console | None = None,
    family_control: bool | None = None,
) -> GateOutcome:
    """Check a finished run against its baseline; write JUnit XML and a Markdown summary; print the table.

    Files default to RUN_DIR/gate/{junit.xml,summary.md,outcome.json}.
    """
    from harness.gate.junit import junit_xml
    from harness.gate.summary import markdown_summary, print_outcome

    run = read_run(run_dir)
    spec = run.gate_spec()
    path = Path(baseline_path) if baseline_path else default_baseline_path(run.suite_name)
    try:
        baseline = load_baseline(path)
    except BenchError as exc:
        if not path.exists():
            name = variant or "NAME"
            exc.hint = f"save one from a run you trust: bench baseline save {run_dir} --variant {name}" + (
                "" if baseline_path else f" (writes {path})"
            )
        raise
    outcome = evaluate_gate(
        run,
        baseline,
        spec=spec,
        variant=variant,
        allow_changed_data=allow_changed_data,
        baseline_path=str(path),
        family_control=family_control,
    )
    gate_dir = Path(run_dir) / "gate"
    files = {
        "junit": Path(junit_path) if junit_path else gate_dir / "junit.xml",
        "markdown": Path(markdown_path) if markdown_path else gate_dir / "summary.md",
        "outcome": gate_dir / "outcome.json",
    }
    outcome.files = {name: str(file) for name, file in files.items()}
    atomic_write_text(files["junit"], junit_xml(outcome))
    atomic_write_text(files["markdown"], markdown_summary(outcome))
    write_json(files["outcome"], outcome.to_dict())
    print_outcome(outcome, console or Console(stderr=True))
    return outcome
