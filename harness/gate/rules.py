"""One check per gate rule: floors, allowed drops, forgetting limits, cost limits.

Each check returns a ``Check`` with a verdict (pass / fail / inconclusive /
skipped) and everything a reader needs to see why: the values on both sides,
the change, its interval, the p-value and the test that produced it. What an
inconclusive verdict does to the exit code is the outcome's business
(evaluate.py), not the rule's.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass, replace

from harness.core.errors import BenchError
from harness.gate.pairing import ItemOutcomes, Pairing
from harness.stats import paired as stats
from harness.tasks.metrics import is_binary  # a share of items: exact paired tests; else resampled


@dataclass(frozen=True)
class Check:
    rule: str  # e.g. "allowed_drop.accuracy"
    kind: str  # floor | drop | forgetting | cost
    subject: str  # the metric, probe task or cost figure
    verdict: str  # pass | fail | inconclusive | skipped
    message: str
    limit: float | None = None  # floor, allowed drop, or cost bound
    baseline: float | None = None
    run: float | None = None
    delta: float | None = None  # run - baseline (negative: worse); forgetting: variant - base model
    ci_low: float | None = None  # interval of ``delta``; for floors, of ``run``
    ci_high: float | None = None
    confidence: float | None = None
    p_value: float | None = None  # one-sided, against "no worse than allowed"
    method: str | None = None
    n: int | None = None
    mdd: float | None = None  # smallest drop this comparison detects with 80% power
    p_adjusted: float | None = None  # Holm-adjusted over the gate's statistical rules; decides the verdict
    family: int | None = None  # how many statistical rules the adjustment ran over
    between_run_sd: float | None = None  # drops against a baseline of several runs: the measured run-level SD
    unit: str = "share"  # share (shown in points / percent) or the cost's own unit

    def to_dict(self) -> dict:
        return asdict(self)


def points(share: float) -> str:
    return f"{share * 100:.1f}"


def _seed(base_seed: int, rule: str) -> int:
    return (base_seed * 1_000_003 + zlib.crc32(rule.encode())) % 2**32


def require_finite(rule: str, **figures: float | None) -> None:
    """A NaN or an infinity in a rule's figures is an error (exit 2), never a verdict.

    Every comparison with NaN is false, so "drop > allowed" would read as "within
    the allowed drop" and a ROUGE-L falling from 0.8 to 0.1 would pass because one
    item's score was NaN.
    """
    bad = [f"{name} = {value}" for name, value in figures.items() if value is not None and not math.isfinite(value)]
    if bad:
        raise BenchError(
            f"gate rule {rule}: {', '.join(bad)} is not a finite number, so the rule cannot be decided",
            hint="a per-item score is NaN or infinite, or the metric is undefined on these items "
            "(macro-F1 with no labels); fix the scorer or the suite's labels and rerun",
        )


# ----------------------------------------------------------------------------- family-wise control
def is_statistical(check: Check) -> bool:
    """A rule decided by a p-value (floors, drops, forgetting with an interval), not a cost bound or a skip."""
    return check.kind in ("floor", "drop", "forgetting") and check.verdict != "skipped" and check.p_value is not None


def holm(checks: list[Check], alpha: float) -> list[Check]:
    """The checks with their verdicts decided by Holm-adjusted p-values over the statistical rules.

    Each rule alone is tested at alpha, so with k rules an A/A comparison fails
    some rule up to k times as often. Holm's step-down procedure keeps the chance
    of any false failure at alpha for any dependence between the rules, and
    rejects everything Bonferroni does and more. A worse-than-allowed result that
    is no longer significant becomes inconclusive, with both p-values in its
    message. Costs and skipped rules are not part of the family.
    """
    family = [c for c in checks if is_statistical(c)]
    if not family:
        return checks
    adjusted = dict(zip(map(id, family), stats.holm_adjusted([c.p_value for c in family])))
    out = []
    for check in checks:
        if id(check) not in adjusted:
            out.append(check)
            continue
        p_adj = float(adjusted[id(check)])
        verdict = check.verdict
        message = check.message
        if check.verdict == "fail" and not p_adj < alpha:
            verdict = "inconclusive"
            message = (
                f"{message}; not significant once adjusted for the {len(family)} statistical rules of this gate "
                f"(Holm: p = {p_adj:.2g} >= alpha {alpha:g})"
            )
        elif check.verdict == "fail" and len(family) > 1:
            message = f"{message}; Holm-adjusted over {len(family)} rules: p = {p_adj:.2g}"
        out.append(replace(check, verdict=verdict, message=message, p_adjusted=p_adj, family=len(family)))
    return out


# ----------------------------------------------------------------------------- floors
def check_floor(
    metric: str,
    floor: float,
    run: ItemOutcomes,
    labels: list[str],
    *,
    alpha: float,
    seed: int,
    baseline_value: float | None = None,
) -> Check:
    """The run's own value against an absolute minimum; fails only when significantly below."""
    rule = f"floors.{metric}"
    if is_binary(metric):
        test = stats.binary_floor(int(run.outcome(metric).sum()), run.n, floor=floor, alpha=alpha)
    else:
        parts, combine = run.parts(metric, labels)
        test = stats.resampled_floor(parts, combine, floor=floor, alpha=alpha, seed=_seed(seed, rule))
    require_finite(rule, value=test.value, ci_low=test.ci_low, ci_high=test.ci_high, p_value=test.p_value)
    verdict = stats.verdict(test.value < floor, test.p_value, alpha)
    interval = f"{test.confidence:.0%} CI [{points(test.ci_low)}, {points(test.ci_high)}]%"
    if verdict == "pass":
        message = f"{metric} {points(test.value)}% meets the floor of {points(floor)}%"
    elif verdict == "fail":
        message = (
            f"{metric} {points(test.value)}% is below the floor of {points(floor)}%: {interval}, "
            f"p = {test.p_value:.2g} ({test.method}), n = {test.n}"
        )
    else:
        message = (
            f"{metric} {points(test.value)}% is below the floor of {points(floor)}% but not significantly: "
            f"{interval}, p = {test.p_value:.2g} >= alpha {alpha:g}, n = {test.n}"
        )
    return Check(
        rule=rule,
        kind="floor",
        subject=metric,
        verdict=verdict,
        message=message,
        limit=floor,
        baseline=baseline_value,
        run=test.value,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        confidence=test.confidence,
        p_value=test.p_value,
        method=test.method,
        n=test.n,
    )


# ----------------------------------------------------------------------------- drops against the baseline
def _paired_drop(
    metric: str, allowed: float, pairing: Pairing, labels: list[str], *, alpha: float, seed: int
) -> tuple[stats.DropTest, float, float]:
    """(test, baseline value, run value) of one paired comparison."""
    base, run = pairing.baseline, pairing.run
    if is_binary(metric):
        b, r = base.outcome(metric), run.outcome(metric)
        test = stats.paired_binary_drop(b, r, margin=allowed, alpha=alpha)
        return test, float(b.mean()), float(r.mean())
    (base_parts, combine), (run_parts, _) = base.parts(metric, labels), run.parts(metric, labels)
    test = stats.paired_resampled_drop(base_parts, run_parts, combine, margin=allowed, alpha=alpha, seed=seed)
    base_value, run_value = (float(combine(parts.sum(0, keepdims=True))[0]) for parts in (base_parts, run_parts))
    return test, base_value, run_value


def check_drop(
    metric: str,
    allowed: float,
    pairing: Pairing,
    labels: list[str],
    *,
    alpha: float,
    seed: int,
    more_runs: list[Pairing] = (),
) -> Check:
    """Paired on shared items: fail when the drop is larger than allowed beyond noise.

    ``more_runs``: the run paired with each further baseline run (a baseline saved
    from several runs); the test then adds the measured between-run variance
    (stats.between_runs_drop) and the baseline value is the runs' mean.
    """
    rule = f"allowed_drop.{metric}"
    test, base_value, run_value = _paired_drop(metric, allowed, pairing, labels, alpha=alpha, seed=_seed(seed, rule))
    run_sd = None
    if more_runs:
        others = [
            _paired_drop(metric, allowed, p, labels, alpha=alpha, seed=_seed(seed, f"{rule}#{k}"))
            for k, p in enumerate(more_runs, start=1)
        ]
        test, run_sd = stats.between_runs_drop([test] + [o[0] for o in others], margin=allowed, alpha=alpha)
        base_value = (base_value + sum(o[1] for o in others)) / (1 + len(others))
    require_finite(
        rule,
        baseline=base_value,
        run=run_value,
        drop=test.estimate,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        p_value=test.p_value,
    )
    drop = test.estimate
    verdict = stats.verdict(drop > allowed, test.p_value, alpha)
    change = f"{-drop * 100 + 0.0:+.1f} pts"
    interval = f"{test.confidence:.0%} CI [{-test.ci_high * 100:+.1f}, {-test.ci_low * 100:+.1f}] pts"
    detail = f"{interval}, p = {test.p_value:.2g} ({test.method}), n = {test.n} shared items"
    sensitivity = (
        f"; this comparison detects drops of {points(test.mdd)} pts or more (80% power)" if test.mdd is not None else ""
    )
    values = f"{points(base_value)}% -> {points(run_value)}%"
    if verdict == "fail":
        message = (
            f"{metric} fell {points(drop)} pts vs baseline ({values}), more than the allowed "
            f"{points(allowed)} pts: change {change}, {detail}"
        )
    elif verdict == "inconclusive":
        message = (
            f"{metric} fell {points(drop)} pts vs baseline ({values}), more than the allowed "
            f"{points(allowed)} pts, but not significantly (p >= alpha {alpha:g}): {detail}{sensitivity}"
        )
    else:
        message = f"{metric} {values}, change {change}, within the allowed drop of {points(allowed)} pts: {detail}"
    return Check(
        rule=rule,
        kind="drop",
        subject=metric,
        verdict=verdict,
        message=message,
        limit=allowed,
        baseline=base_value,
        run=run_value,
        delta=0.0 - drop,
        ci_low=-test.ci_high,
        ci_high=-test.ci_low,
        confidence=test.confidence,
        p_value=test.p_value,
        method=test.method,
        n=test.n,
        mdd=test.mdd,
        between_run_sd=run_sd,
    )


# ----------------------------------------------------------------------------- forgetting (probes)
def check_forgetting(
    probe: str, allowed: float, entry: dict | None, *, alpha: float, baseline_score: float | None = None
) -> Check:
    """A probe's score against the base model's, from the run's recorded delta and 95% interval.

    Probes record a paired-bootstrap 95% interval, not per-item rows the gate
    could resample; the test reads a normal standard error off that interval,
    se = width / (2 * 1.96), and tests "drop <= allowed" at the suite's alpha.
    """
    rule = f"forgetting.{probe}"
    if not entry or entry.get("status", "ok") != "ok" or entry.get("score") is None or entry.get("base") is None:
        reason = (entry or {}).get("reason") or "no score for this variant"
        return Check(
            rule=rule,
            kind="forgetting",
            subject=probe,
            verdict="skipped",
            limit=allowed,
            message=f"probe {probe} could not be checked: {reason}",
        )
    score, base = float(entry["score"]), float(entry["base"])
    delta = float(entry["delta"]) if entry.get("delta") is not None else score - base
    require_finite(rule, score=score, base=base, delta=delta, ci_low=entry.get("ci_low"), ci_high=entry.get("ci_high"))
    drop = -delta
    low, high, p_value, method = entry.get("ci_low"), entry.get("ci_high"), None, "no interval recorded"
    confidence = None
    if low is not None and high is not None and high > low:  # probes record 95% intervals (harness.stats.policy)
        test = stats.interval_drop(delta, float(low), float(high), margin=allowed, alpha=alpha)
        low, high, p_value, confidence = -test.ci_high, -test.ci_low, test.p_value, test.confidence
        method = "normal approximation from the upper half of the probe's 95% interval"
    elif low is not None and high is not None:  # zero width: the variant scored exactly like the base on every item
        p_value = 0.0 if drop > allowed else 1.0
        method = "zero-width interval"
    verdict = stats.verdict(drop > allowed, p_value, alpha)
    ci = f", {confidence:.0%} CI [{low * 100:+.1f}, {high * 100:+.1f}] pts" if confidence else ""
    p_text = f", p = {p_value:.2g}" if p_value is not None else ""
    values = f"{points(base)}% (base model) -> {points(score)}%"
    if verdict == "pass":
        message = f"probe {probe}: {values}, within the allowed forgetting of {points(allowed)} pts{ci}{p_text}"
    else:
        qualifier = "" if verdict == "fail" else ", but not significantly"
        message = (
            f"probe {probe} fell {points(drop)} pts below the base model ({values}), more than the allowed "
            f"{points(allowed)} pts{qualifier}: change {delta * 100:+.1f} pts{ci}{p_text} ({method})"
        )
    return Check(
        rule=rule,
        kind="forgetting",
        subject=probe,
        verdict=verdict,
        message=message,
        limit=allowed,
        baseline=baseline_score,
        run=score,
        delta=delta,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_value=p_value,
        method=method,
        n=entry.get("n"),
    )


# ----------------------------------------------------------------------------- cost limits
COST_UNITS = {
    "train_seconds": "s",
    "infer_seconds": "s",
    "peak_rss_mb": "MB",
    "peak_cuda_mb": "MB",
    "trainable_params": "params",
    "adapter_bytes": "bytes",
}


def check_cost(name: str, limit: float, value: float | None, *, baseline_value: float | None = None) -> Check:
    """A measured cost against its upper bound. One measurement, no noise model: over the limit fails."""
    rule = f"cost_limits.{name}"
    unit = COST_UNITS.get(name, "")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Check(
            rule=rule,
            kind="cost",
            subject=name,
            verdict="skipped",
            limit=limit,
            baseline=baseline_value,
            unit=unit,
            message=f"{name} was not measured in this run (e.g. no GPU for peak_cuda_mb)",
        )
    value = float(value)
    over = value > limit
    before = f" (baseline {baseline_value:g} {unit})" if baseline_value is not None else ""
    message = (
        f"{name} {value:g} {unit} is over the limit of {limit:g} {unit}{before}"
        if over
        else f"{name} {value:g} {unit} is within the limit of {limit:g} {unit}{before}"
    )
    delta = value - baseline_value if baseline_value is not None else None
    return Check(
        rule=rule,
        kind="cost",
        subject=name,
        verdict="fail" if over else "pass",
        message=message,
        limit=limit,
        baseline=baseline_value,
        run=value,
        delta=delta,
        method="upper bound",
        unit=unit,
    )
