"""How often does the gate cry wolf, and how often does it catch a real drop?

Simulates baseline-vs-run comparisons with realistic, correlated per-item
outcomes and runs them through the gate's own rule code (harness.gate.rules),
so the figures describe what `bench gate` does, not a re-implementation.

Item model. Each test item has a latent difficulty d ~ Normal(0, sigma); a
model of ability a answers it correctly with probability p = expit(a - d).
Two runs of the same adapter draw each item's outcome independently from the
same p, so they agree on the easy and the hopeless items and disagree only on
the borderline ones, as reruns do. (a, sigma) are calibrated so that mean
accuracy and the A/A disagreement rate (the share of items on which two such
runs differ) hit the scenario's values. A planted drop of D points lowers
every item's logit by the same amount, chosen so mean accuracy falls by D.

Reported per scenario (n items, accuracy, A/A disagreement, allowed drop):
  false alarms: share of A/A comparisons that fail (target <= 1% at alpha 0.01)
  A/A inconclusive: share flagged inconclusive (a warning under the default policy)
  detection: share of planted 5-point drops that fail (target >= 80% at n = 300)
  predicted MDD: the minimum detectable drop the gate prints, and the simulated
  detection rate at a drop of exactly that size (should be near 80%).

    python benchmarks/gate_simulation.py              # full run,
    python benchmarks/gate_simulation.py --quick      # a smoke run
    python benchmarks/gate_simulation.py --json out.json
    python benchmarks/gate_simulation.py --rows runs  # issue 17: run-level shifts, K-run baselines, families

Issue 17 rows (``--rows runs``). Runs differ as a whole, not only item by item:
every run (each baseline run and the candidate) adds its own logit shift
~ Normal(0, tau) to every item, tau chosen so that the run's accuracy has the
scenario's SD ("run SD", points). The gate is the real one: each task type's
default rules (classification: accuracy; generation: pass rate and format
compliance, both yes/no per item), Holm across them (rules.holm), and the
baseline's K runs combined by stats.between_runs_drop. A/A: the candidate is
one more rerun; detection: a planted 5-point drop on top of its own shift.
Baseline reuse: B baselines, each gated against R fresh reruns, and the spread
of the per-baseline false-alarm rate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass

# One BLAS thread: the matrices are small, and extra threads only fight over the cores.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.optimize import brentq  # noqa: E402
from scipy.special import expit  # noqa: E402

from harness.gate import rules  # noqa: E402
from harness.gate.evaluate import decide  # noqa: E402
from harness.gate.pairing import ItemOutcomes, Pairing  # noqa: E402
from harness.stats import paired as stats  # noqa: E402

ALPHA = 0.01
LABELS = ["a", "b", "c", "d"]
POPULATION = np.random.default_rng(12345).standard_normal(200_000)  # for calibration only


@dataclass(frozen=True)
class ItemModel:
    ability: float
    sigma: float  # spread of item difficulty (logits)

    @classmethod
    def calibrate(cls, accuracy: float, disagreement: float) -> "ItemModel":
        """Find (ability, sigma) giving this mean accuracy and A/A disagreement 2 E[p (1 - p)]."""

        def ability_for(sigma: float) -> float:
            return brentq(lambda a: expit(a - sigma * POPULATION).mean() - accuracy, -400, 400)

        def excess(sigma: float) -> float:
            p = expit(ability_for(sigma) - sigma * POPULATION)
            return 2 * (p * (1 - p)).mean() - disagreement

        sigma = brentq(excess, 0.01, 40)
        return cls(ability=ability_for(sigma), sigma=sigma)

    def shift_for_drop(self, drop: float) -> float:
        """Logit shift that lowers mean accuracy by ``drop``."""
        base = expit(self.ability - self.sigma * POPULATION).mean()
        return brentq(lambda s: expit(self.ability - s - self.sigma * POPULATION).mean() - (base - drop), 0, 50)


def simulate_pair(model: ItemModel, n: int, shift: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-item correctness of a baseline and a run on a fresh sample of n items."""
    difficulty = model.sigma * rng.standard_normal(n)
    baseline = rng.random(n) < expit(model.ability - difficulty)
    run = rng.random(n) < expit(model.ability - shift - difficulty)
    return baseline, run


def as_pairing(baseline: np.ndarray, run: np.ndarray, rng: np.random.Generator) -> Pairing:
    """Wrap correctness as classification outcomes: a wrong answer is another label, or unreadable."""
    n = len(baseline)
    gold = [LABELS[k] for k in rng.integers(0, len(LABELS), n)]

    def predictions(correct: np.ndarray) -> list[str | None]:
        wrong = rng.integers(1, len(LABELS) + 1, n)  # len(LABELS) -> unreadable
        return [
            g if ok else (None if w == len(LABELS) else LABELS[(LABELS.index(g) + w) % len(LABELS)])
            for g, ok, w in zip(gold, correct, wrong)
        ]

    def side(correct: np.ndarray) -> ItemOutcomes:
        return ItemOutcomes(gold=gold, parsed=predictions(correct), correct=correct, format_ok=np.ones(n, bool))

    return Pairing(baseline=side(baseline), run=side(run), baseline_items=n, run_items=n)


def verdict_rates(
    model: ItemModel, n: int, drop: float, margin: float, sims: int, seed: int, metric: str = "accuracy"
) -> dict:
    """Share of comparisons whose gate verdict is pass / fail / inconclusive.

    ``metric`` is one metric, or several joined by "+": one allowed-drop rule
    each, combined by the gate's own decision (any fail fails the gate).
    """
    rng = np.random.default_rng(seed)
    shift = model.shift_for_drop(drop) if drop > 0 else 0.0
    counts = {"pass": 0, "fail": 0, "inconclusive": 0}
    for _ in range(sims):
        baseline, run = simulate_pair(model, n, shift, rng)
        pairing = as_pairing(baseline, run, rng)
        checks = [
            rules.check_drop(name, margin, pairing, LABELS, alpha=ALPHA, seed=int(rng.integers(2**31)))
            for name in metric.split("+")
        ]
        counts[decide(checks, "warn")[0]] += 1
    return {k: v / sims for k, v in counts.items()}


@dataclass
class Row:
    n: int
    accuracy: float
    disagreement: float
    margin: float
    metric: str
    aa_sims: int
    false_alarm: float
    aa_inconclusive: float
    drop_sims: int
    detection_5pt: float
    predicted_mdd: float | None
    detection_at_mdd: float | None


def scenario(
    n: int,
    accuracy: float,
    disagreement: float,
    margin: float,
    aa_sims: int,
    drop_sims: int,
    seed: int,
    metric: str = "accuracy",
    check_mdd: bool = True,
) -> Row:
    model = ItemModel.calibrate(accuracy, disagreement)
    aa = verdict_rates(model, n, 0.0, margin, aa_sims, seed, metric)
    planted = verdict_rates(model, n, 0.05, margin, drop_sims, seed + 1, metric)
    mdd = stats.minimum_detectable_drop(n, disagreement, margin=margin, alpha=ALPHA) if metric == "accuracy" else None
    at_mdd = None
    if check_mdd and mdd is not None and mdd < 0.5:
        at_mdd = verdict_rates(model, n, mdd, margin, drop_sims, seed + 2, metric)["fail"]
    return Row(
        n=n,
        accuracy=accuracy,
        disagreement=disagreement,
        margin=margin,
        metric=metric,
        aa_sims=aa_sims,
        false_alarm=aa["fail"],
        aa_inconclusive=aa["inconclusive"],
        drop_sims=drop_sims,
        detection_5pt=planted["fail"],
        predicted_mdd=mdd,
        detection_at_mdd=at_mdd,
    )


def markdown(rows: list[Row]) -> str:
    lines = [
        "| metric | n | accuracy | A/A disagreement | allowed drop | false alarms (A/A) | A/A inconclusive "
        "| detection of a 5-pt drop | predicted MDD | detection at MDD |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mdd = f"{r.predicted_mdd * 100:.1f} pts" if r.predicted_mdd is not None else "-"
        at = f"{r.detection_at_mdd:.1%}" if r.detection_at_mdd is not None else "-"
        lines.append(
            f"| {r.metric} | {r.n} | {r.accuracy:.0%} | {r.disagreement:.0%} | {r.margin * 100:.0f} pts "
            f"| {r.false_alarm:.2%} of {r.aa_sims} | {r.aa_inconclusive:.1%} | {r.detection_5pt:.1%} of "
            f"{r.drop_sims} | {mdd} | {at} |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- issue 17: runs, K, families
FAMILIES = {"classification": ("accuracy",), "generation": ("accuracy", "format_compliance")}


def logit_sd_for(model: ItemModel, run_sd: float) -> float:
    """Logit shift SD that gives a run's mean accuracy this SD (by the slope of accuracy in the shift)."""
    p = expit(model.ability - model.sigma * POPULATION)
    return run_sd / float((p * (1 - p)).mean()) if run_sd > 0 else 0.0


class Family:
    """Draws runs of one adapter on fixed items: per-item difficulty, a per-run shift, per-item noise."""

    def __init__(self, n: int, run_sd: float, rng: np.random.Generator):
        self.n, self.rng = n, rng
        self.acc = ItemModel.calibrate(0.80, 0.05)
        self.fmt = ItemModel.calibrate(0.95, 0.03)
        self.tau_acc, self.tau_fmt = logit_sd_for(self.acc, run_sd), logit_sd_for(self.fmt, run_sd)
        self.drop_shift = self.acc.shift_for_drop(0.05)

    def items(self) -> None:
        self.d_acc = self.acc.sigma * self.rng.standard_normal(self.n)
        self.d_fmt = self.fmt.sigma * self.rng.standard_normal(self.n)

    def run(self, shift: float = 0.0) -> ItemOutcomes:
        # one run-level shift for the whole run, shared by both outcomes (a worse seed is worse at both)
        z = self.rng.standard_normal()
        correct = self.rng.random(self.n) < expit(self.acc.ability - shift + self.tau_acc * z - self.d_acc)
        fmt_ok = self.rng.random(self.n) < expit(self.fmt.ability + self.tau_fmt * z - self.d_fmt)
        gold = ["a"] * self.n
        return ItemOutcomes(gold=gold, parsed=gold, correct=correct, format_ok=fmt_ok)


def gate_verdict(baseline_runs: list[ItemOutcomes], run: ItemOutcomes, metrics: tuple[str, ...], holm: bool) -> str:
    n = run.n
    pairings = [Pairing(baseline=b, run=run, baseline_items=n, run_items=n) for b in baseline_runs]
    checks = [
        rules.check_drop(m, 0.0, pairings[0], LABELS, alpha=ALPHA, seed=0, more_runs=pairings[1:]) for m in metrics
    ]
    if holm:
        checks = rules.holm(checks, ALPHA)
    return decide(checks, "warn")[0]


@dataclass
class RunRow:
    task_type: str
    rules: int
    n: int
    run_sd: float
    k: int
    holm: bool
    sims: int
    false_alarm: float
    warning: float
    detection_5pt: float
    mdd: float | None


def run_row(task_type: str, n: int, run_sd: float, k: int, sims: int, seed: int, holm: bool = True) -> RunRow:
    rng = np.random.default_rng(seed)
    family = Family(n, run_sd, rng)
    metrics = FAMILIES[task_type]
    counts = {"aa": {"pass": 0, "fail": 0, "inconclusive": 0}, "drop": {"pass": 0, "fail": 0, "inconclusive": 0}}
    mdds = []
    for _ in range(sims):
        family.items()
        base = [family.run() for _ in range(k)]
        counts["aa"][gate_verdict(base, family.run(), metrics, holm)] += 1
        dropped = family.run(family.drop_shift)
        counts["drop"][gate_verdict(base, dropped, metrics, holm)] += 1
        if len(mdds) < 200:
            pairings = [Pairing(baseline=b, run=dropped, baseline_items=n, run_items=n) for b in base]
            mdds.append(
                rules.check_drop("accuracy", 0.0, pairings[0], LABELS, alpha=ALPHA, seed=0, more_runs=pairings[1:]).mdd
                or 1.0
            )
    return RunRow(
        task_type=task_type,
        rules=len(metrics),
        n=n,
        run_sd=run_sd,
        k=k,
        holm=holm,
        sims=sims,
        false_alarm=counts["aa"]["fail"] / sims,
        warning=counts["aa"]["inconclusive"] / sims,
        detection_5pt=counts["drop"]["fail"] / sims,
        mdd=float(np.median(mdds)) if mdds else None,
    )


def reuse_row(n: int, run_sd: float, k: int, baselines: int, reruns: int, seed: int) -> dict:
    """Per-baseline false-alarm rates when one committed baseline gates many reruns."""
    rng = np.random.default_rng(seed)
    family = Family(n, run_sd, rng)
    family.items()
    rates = []
    for _ in range(baselines):
        base = [family.run() for _ in range(k)]
        fails = sum(gate_verdict(base, family.run(), ("accuracy",), True) == "fail" for _ in range(reruns))
        rates.append(fails / reruns)
    rates = np.array(rates)
    return {
        "n": n,
        "run_sd": run_sd,
        "k": k,
        "baselines": baselines,
        "reruns": reruns,
        "mean": float(rates.mean()),
        "p95": float(np.quantile(rates, 0.95)),
        "over_1pct": float((rates > 0.01).mean()),
        "worst": float(rates.max()),
    }


def runs_markdown(rows: list[RunRow]) -> str:
    lines = [
        "| task type (default rules) | n | run SD | baseline runs K | Holm | A/A false alarms (any rule) "
        "| A/A warnings | detection of a 5-pt drop | median printed MDD |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mdd = f"{r.mdd * 100:.1f} pts" if r.mdd is not None else "-"
        lines.append(
            f"| {r.task_type} ({r.rules}) | {r.n} | {r.run_sd * 100:.1f} pts | {r.k} | {'yes' if r.holm else 'no'} "
            f"| {r.false_alarm:.2%} of {r.sims} | {r.warning:.1%} | {r.detection_5pt:.1%} | {mdd} |"
        )
    return "\n".join(lines)


def run_rows(quick: bool) -> tuple[list[RunRow], list[dict]]:
    sims = 100 if quick else 1000
    rows: list[RunRow] = []

    def add(*args, **kwargs) -> None:
        rows.append(run_row(*args, **kwargs))
        print(runs_markdown(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)

    seed = 17_000
    for task_type in ("classification", "generation"):
        for run_sd in (0.0, 0.005, 0.01, 0.015):
            for k in (1, 3):
                seed += 1
                add(task_type, 300, run_sd, k, sims, seed)
    add("generation", 300, 0.015, 3, sims, seed + 1, holm=False)
    for n, k in ((300, 5), (300, 10), (1000, 5), (1000, 10)):  # what it takes to catch 5 points
        add("classification", n, 0.015, k, sims // 2, seed + n + k)
    reuse = [reuse_row(300, 0.01, k, 10 if quick else 100, 50 if quick else 200, seed=99 + k) for k in (1, 3)]
    return rows, reuse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few simulations: checks the script, not the figures")
    parser.add_argument("--json", help="also write the rows as JSON here")
    parser.add_argument(
        "--rows",
        choices=("all", "accuracy", "f1", "runs"),
        default="all",
        help="only the accuracy rows, or only the macro-F1 rows",
    )
    parser.add_argument(
        "--f1-sims",
        type=int,
        default=1_000,
        help="A/A comparisons per macro-F1 row (half as many planted drops); each resamples 8000 times",
    )
    args = parser.parse_args(argv)
    aa_sims, drop_sims, f1_sims = (300, 100, 40) if args.quick else (10_000, 2_000, args.f1_sims)
    started = time.perf_counter()
    rows = []
    if args.rows == "runs":
        run_table, reuse = run_rows(args.quick)
        print(runs_markdown(run_table))
        print("\n| n | run SD | K | baselines x reruns | mean false alarms | 95th percentile | share over 1% | worst |")
        print("|---|---|---|---|---|---|---|---|")
        for r in reuse:
            print(
                f"| {r['n']} | {r['run_sd'] * 100:.1f} pts | {r['k']} | {r['baselines']} x {r['reruns']} "
                f"| {r['mean']:.2%} | {r['p95']:.2%} | {r['over_1pct']:.0%} | {r['worst']:.2%} |"
            )
        print(f"\nalpha {ALPHA} one-sided, Holm; {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if args.json:
            with open(args.json, "w") as handle:
                json.dump({"alpha": ALPHA, "rows": [asdict(r) for r in run_table], "reuse": reuse}, handle, indent=2)
        return 0

    def add(row_seed: int, *args, **kwargs) -> None:
        rows.append(scenario(*args, seed=row_seed * 7919, **kwargs))
        print(markdown(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)

    if args.rows in ("all", "accuracy"):
        for k, (disagreement, margin) in enumerate(
            [(d, m) for d in (0.02, 0.05, 0.08, 0.10, 0.15) for m in (0.0, 0.02)]
        ):
            add(k, 300, 0.80, disagreement, margin, aa_sims, drop_sims)
        add(10, 150, 0.80, 0.05, 0.0, aa_sims, drop_sims)  # the same noise on a smaller and a larger test set
        add(11, 1000, 0.80, 0.05, 0.0, aa_sims, drop_sims)
        add(12, 300, 0.60, 0.05, 0.0, aa_sims, drop_sims)
    if args.rows in ("all", "f1"):
        for k, (metric, margin) in enumerate([(m, d) for m in ("macro_f1", "accuracy+macro_f1") for d in (0.0, 0.02)]):
            add(13 + k, 300, 0.80, 0.05, margin, f1_sims, f1_sims // 2, metric=metric, check_mdd=False)
    print(markdown(rows))
    print(f"\nalpha {ALPHA} one-sided; {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"alpha": ALPHA, "rows": [asdict(r) for r in rows]}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
