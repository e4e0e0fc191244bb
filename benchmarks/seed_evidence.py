"""Real reruns for the gate (issue 17): one trained variant with N seeds, each seed gated against a
baseline built from K of the others, and a planted regression gated against K seeds.

    python benchmarks/seed_evidence.py [--suite suites/legal_classifier.yaml] [--variant lora] [--seeds 5]
                                       [--baseline-runs 3] [--planted-fraction 0.25] [--no-probes]
                                       [--out DIR] [--json FILE]

It writes a copy of the suite into OUT holding only VARIANT, trained with ``seeds: N`` (members
VARIANT-seed1 ... VARIANT-seedN), and VARIANT-planted: the same recipe stopped after FRACTION of its
planned optimiser steps (the issue's "a quarter of the training steps"). One ``bench run`` of that copy
trains them all; the store keeps every finished seed, so a rerun after a crash resumes. Then, with the
gate's own code (``harness.gate``):

- seed k against a baseline of the K seeds after it (cyclically): N comparisons of one more run of the
  same recipe against a K-run baseline, whose false alarms and warnings are counted;
- VARIANT-planted against a baseline of seeds 1..K: the gate should fail it.

It prints each seed's value of the metrics the task type gates by default (classification: accuracy),
their mean and between-seed SD, and every gate's verdict with the minimum detectable drop it printed.
Figures for the legal suite: benchmarks/README.md (issue 17). On a 2-core CPU without bf16 one seed
of legal_classifier's LoRA trains for about an hour; on a GPU, minutes.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from pathlib import Path
from statistics import fmean, stdev

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.core.files import read_json, write_json  # noqa: E402
from harness.core.trust import Trust  # noqa: E402
from harness.gate.baseline import build_baseline  # noqa: E402
from harness.gate.evaluate import evaluate_gate  # noqa: E402
from harness.gate.runs import read_run  # noqa: E402
from harness.run.recipe import run_suite  # noqa: E402
from harness.run.seeds import member_name  # noqa: E402
from harness.suite.gate_rules import GateSpec  # noqa: E402


def evidence_suite(suite_path: Path, variant: str, seeds: int, fraction: float, probes: bool) -> dict:
    """The suite's YAML reduced to VARIANT with ``seeds`` and its planted copy; data paths made absolute."""
    suite = yaml.safe_load(suite_path.read_text(encoding="utf-8"))
    folder = suite_path.resolve().parent
    config = next((v for v in suite["variants"] if v.get("name") == variant), None)
    if config is None:
        raise SystemExit(f"{suite_path}: no variant named {variant!r}")
    data = suite["task"]["data"]
    for split, path in data.items():
        data[split] = str((folder / path).resolve())
    training = {**(suite.get("training") or {}), **(config.get("training") or {})}
    planted_steps = max(1, math.floor(fraction * planned_steps(training, Path(data["train"]))))
    planted = copy.deepcopy(config)  # its own lists: shared ones would be dumped as YAML aliases, refused in a suite
    planted["name"] = f"{variant}-planted"
    planted["training"] = {**(planted.get("training") or {}), "max_steps": planted_steps}
    suite["variants"] = [{**config, "seeds": seeds}, planted]
    suite["allow_paths_outside_suite"] = True  # the data stay where the suite keeps them; granted below
    if not probes:
        suite.pop("probes", None)
    return suite


def planned_steps(training: dict, train_file: Path) -> int:
    """The optimiser steps the recipe plans: ``max_steps``, else epochs over the training rows in batches."""
    if training.get("max_steps"):
        return int(training["max_steps"])
    rows = sum(1 for line in train_file.read_text(encoding="utf-8").splitlines() if line.strip())
    return int(training.get("epochs", 1)) * math.ceil(rows / int(training.get("batch_size", 8)))


def gate_one(run, candidate: str, members: list[str], spec: GateSpec) -> dict:
    """The gate's verdict on ``candidate`` against a baseline built from ``members`` (variants of the same run)."""
    baseline = build_baseline(run, members[0])
    baseline["runs"] += [build_baseline(run, m)["runs"][0] for m in members[1:]]
    outcome = evaluate_gate(run, baseline, spec=spec, variant=candidate, baseline_path=f"seeds {', '.join(members)}")
    return {
        "candidate": candidate,
        "baseline_runs": members,
        "verdict": outcome.verdict,
        "failed": [c.subject for c in outcome.failures],
        "warned": [c.subject for c in outcome.checks if c.verdict == "inconclusive" and c not in outcome.failures],
        "mdd": outcome.comparison.get("drop_mdd"),
        "between_run_sd": outcome.comparison.get("between_run_sd"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", type=Path, default=REPO / "suites" / "legal_classifier.yaml")
    parser.add_argument("--variant", default="lora")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--planted-fraction", type=float, default=0.25)
    parser.add_argument("--no-probes", action="store_true", help="skip the forgetting probes (faster)")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "seed_evidence")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not 1 <= args.baseline_runs < args.seeds:
        raise SystemExit("--baseline-runs must be at least 1 and fewer than --seeds")

    args.out.mkdir(parents=True, exist_ok=True)
    suite_file = args.out / "suite.yaml"
    suite = evidence_suite(args.suite, args.variant, args.seeds, args.planted_fraction, not args.no_probes)
    suite_file.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    trust = Trust.granted(allow_paths=[args.suite.resolve().parent])
    result = run_suite(suite_file, args.out / "run", trust=trust)

    run = read_run(result.run_dir)
    spec = run.gate_spec()
    metrics = [name for name, _ in GateSpec().drop_limits(run.task_type)]  # what the default rules gate
    records = read_json(result.run_dir / "results.json")["variants"]
    members = [member_name(args.variant, k) for k in range(1, args.seeds + 1)]
    broken = [m for m in members + [f"{args.variant}-planted"] if records[m]["status"] != "ok"]
    if broken:
        raise SystemExit(f"not finished: {', '.join(broken)} (see {result.run_dir}/results.json)")

    per_seed = {m: {name: records[m]["metrics"][name]["value"] for name in metrics} for m in members}
    summary = {
        name: {"mean": fmean(v[name] for v in per_seed.values()), "sd": stdev(v[name] for v in per_seed.values())}
        for name in metrics
    }
    k = args.baseline_runs
    aa = [
        gate_one(run, m, [members[(i + j) % len(members)] for j in range(1, k + 1)], spec)
        for i, m in enumerate(members)
    ]
    planted = gate_one(run, f"{args.variant}-planted", members[:k], spec)
    planted_values = {name: records[f"{args.variant}-planted"]["metrics"][name]["value"] for name in metrics}

    for m in members:
        print(f"{m}: " + ", ".join(f"{name} {value:.4f}" for name, value in per_seed[m].items()))
    for name, s in summary.items():
        print(f"{name}: mean {s['mean']:.4f}, between-seed SD {s['sd'] * 100:.2f} pts over {len(members)} seeds")
    for gate in aa + [planted]:
        mdd = ", ".join(f"{n} {v * 100:.1f} pts" for n, v in (gate["mdd"] or {}).items() if v is not None)
        print(
            f"gate {gate['candidate']} vs {'+'.join(gate['baseline_runs'])}: {gate['verdict']}"
            + (f" (failed: {', '.join(gate['failed'])})" if gate["failed"] else "")
            + (f" (warned: {', '.join(gate['warned'])})" if gate["warned"] else "")
            + (f"; minimum detectable drop {mdd}" if mdd else "")
        )
    false_alarms = sum(g["verdict"] == "fail" for g in aa)
    warnings = sum(g["verdict"] == "inconclusive" for g in aa)
    print(f"A/A: {false_alarms} false alarm(s) and {warnings} warning(s) in {len(aa)} gates of one seed against {k}")
    print(
        f"planted ({args.planted_fraction:g} of the steps, "
        + ", ".join(f"{n} {v:.4f}" for n, v in planted_values.items())
        + f"): {'caught' if planted['verdict'] == 'fail' else 'NOT caught'}"
    )
    if args.json:
        write_json(
            args.json,
            {
                "run_dir": str(result.run_dir),
                "per_seed": per_seed,
                "summary": summary,
                "aa_gates": aa,
                "planted": {**planted, "values": planted_values, "fraction": args.planted_fraction},
            },
        )


if __name__ == "__main__":
    main()
