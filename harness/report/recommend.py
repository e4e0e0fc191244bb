"""Which variant to ship, by a rule written down here and printed in the report.

The rule ranks by the task's headline metric (harness/report/measures.py):
macro-F1 for classification, field F1 (micro) for extraction, the pass rate
for generation; "format compliance" is the task's own (the answer format, the
JSON schema, the suite's constraints). Step by step (``rule_for`` writes the
same text the reader sees):
1. Only variants that finished and have the headline metric are candidates.
2. The leader has the best headline metric (ties: the better second metric,
   then cheaper).
3. A candidate is *tied with the leader* only when the paired 95% interval
   of the headline difference lies inside the practical margin, +-``margin``
   (the suite's ``report: {practical_margin: ...}``, default
   ``PRACTICAL_MARGIN``, 2 points); without per-item rows, when the leader's
   upper end minus the candidate's lower end is within it. A gap that is not
   significant is not a tie: with 50 items a variant truly 12 points worse is
   rarely significantly worse, and calling it tied shipped it because it was
   cheaper. A candidate neither clearly worse nor shown within the margin is
   *undecided*: not a contender, and named in the evidence. For a yes/no
   headline (generation's pass rate) the paired interval is McNemar's
   (harness/report/paired.py), the test whose p-value the words print.
   A classical baseline (tfidf, embedding_classifier) whose headline metric is
   at most ``PRACTICAL_MARGIN`` below an LLM leader's (point estimates) counts
   as tied too, even where the interval says the LLM is better: a gap that
   small rarely pays for a language model, its memory and its latency.
4. Among the tied, variants below the format-compliance threshold are set
   aside, as long as one that meets it remains; then, likewise, variants that
   clearly forget (a probe score drop whose interval lies wholly below zero).
5. The cheapest of what is left is the pick: cost is USD where every candidate
   has it, else compute seconds (training + inference on the test set).
6. When the pick is a classical baseline, the headline adds what the best LLM
   variant would add (its gap in points, with the paired interval, and its cost
   as a multiple); when an LLM variant is picked, the evidence says how far the
   best classical baseline fell short.
7. The verdict says how strong that is: *clear* (one contender, and better than
   the base), *tied* (several within noise; the cheapest wins), *inconclusive*
   (not clearly better than the base model, or nothing works), *none* (no
   variant finished).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from harness.report.format import num, pct, pvalue, seconds, signed
from harness.report.measures import TaskMeasures, label_of, measures_for
from harness.report.paired import PairedComparison

FORMAT_THRESHOLD = 0.95  # share of well-formed outputs needed to count as compliant
# A classical baseline this close to the best LLM variant's headline metric (or above it) is recommended:
# two points of macro-F1 rarely pay for serving a language model instead of a linear model.
PRACTICAL_MARGIN = 0.02
SMALL_TEST_SET = 100  # below this many items, say plainly that intervals are wide
NOT_RUN_PREFIX = "Not compared, because they did not finish: "
CLASSIFICATION = measures_for("classification")


def rule_for(task: TaskMeasures, margin: float = PRACTICAL_MARGIN) -> list[str]:
    score, compliance = task.headline.label, task.compliance.label
    return [
        f"Only variants that finished and have a {score} are candidates.",
        f"The leader is the candidate with the best {score}.",
        f"A candidate is tied with the leader only when the paired 95% interval of the {score} difference lies "
        f"within the practical margin of {margin * 100:g} points either way; a gap that is merely not significant "
        "is not a tie (such a candidate is undecided, and not recommended over the leader).",
        f"A classical baseline (tfidf, embedding classifier) at most {margin * 100:g} points of {score} below "
        "the best LLM variant, or above it, counts as tied even where the LLM is clearly better: a gap that small "
        "rarely pays for a language model.",
        f"Tied candidates below {FORMAT_THRESHOLD:.0%} {compliance} are set aside while a compliant one remains; "
        "then, likewise, tied candidates that clearly forget (a probe drop whose interval lies wholly below zero).",
        "The cheapest remaining candidate is recommended (USD where known, else training + inference seconds).",
    ]


@dataclass
class Candidate:
    name: str
    score: dict  # the headline metric: {value, ci_low, ci_high, n, ...}
    second: dict  # the metric beside it (classification: accuracy; extraction: exact match; generation: ROUGE-L)
    accuracy: dict  # Wilson interval: tells the test set's size honestly, whatever the scores
    format_compliance: dict
    cost: float | None
    cost_unit: str  # "s" or "USD"
    is_base: bool = False
    trains: bool = False
    forgetting: list[dict] = field(default_factory=list)  # [{task, delta, ci_low, ci_high}]
    classical: bool = False  # a classical classifier (tfidf, embedding_classifier): no language model at all


@dataclass
class Recommendation:
    pick: str | None
    verdict: str  # clear | tied | inconclusive | none
    headline: str
    evidence: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    contenders: list[str] = field(default_factory=list)
    rule: list[str] = field(default_factory=lambda: rule_for(CLASSIFICATION))


Compare = Callable[[str, str], "PairedComparison | None"]  # (a, b) -> B against A, or None without per-item rows


def recommend(
    candidates: list[Candidate],
    compare: Compare,
    *,
    base: str | None,
    n_test: int,
    not_run: dict[str, str] | None = None,
    task: TaskMeasures = CLASSIFICATION,
    margin: float = PRACTICAL_MARGIN,
) -> Recommendation:
    words = Words.of(task)
    rule = rule_for(task, margin)
    ready = [c for c in candidates if c.score.get("value") is not None]
    caveats = _not_run_caveat(not_run or {})
    if not ready:
        headline = (
            f"No variant has a {words.score}, which this recommendation rule ranks by."
            if candidates
            else "No variant finished, so there is nothing to recommend."
        )
        return Recommendation(pick=None, verdict="none", headline=headline, caveats=caveats, rule=rule)
    leader = max(ready, key=lambda c: (c.score["value"], c.second.get("value") or 0, -_cost_key(c)))
    if leader.score["value"] <= 0:
        return Recommendation(
            pick=None,
            verdict="inconclusive",
            caveats=caveats + _size_caveat(leader, n_test, label_of(task, "accuracy")),
            headline=f"No variant works yet: the best {words.score} is 0, so there is nothing to ship.",
            evidence=[
                f"Best {words.second}: {num(max(c.second.get('value') or 0 for c in ready))}; best "
                f"{words.compliance}: {pct(max(c.format_compliance.get('value') or 0 for c in ready))}."
            ],
            rule=rule,
        )
    # Within the practical margin of an LLM leader, a classical baseline is tied with it whatever the interval says.
    close = [
        c for c in ready if c.classical and not leader.classical and c.score["value"] >= leader.score["value"] - margin
    ]
    tied = [c for c in ready if c is leader or c in close or _within_margin(c, leader, compare, margin)]
    undecided = [c.name for c in ready if c not in tied and not _clearly_worse(c, leader, compare)]
    compliant = [c for c in tied if _compliant(c)] or tied
    pool = [c for c in compliant if not _forgets(c)] or compliant
    dropped = [c.name for c in tied if c not in compliant]  # for format
    forgetful = [c.name for c in compliant if c not in pool]
    pick = min(pool, key=lambda c: (_cost_key(c), -c.score["value"], c.name))
    by_name = {c.name: c for c in ready}
    versus_base = compare(base, pick.name) if base and base in by_name and pick.name != base else None

    compliance = (
        "not applicable (a classical classifier writes its label into the format)"
        if pick.classical
        else pct(pick.format_compliance.get("value"))
    )
    evidence = [
        f"{pick.name}: {words.score} {_interval(pick.score)}, {words.second} {_interval(pick.second)} "
        f"on {pick.score.get('n', n_test)} test items; {words.compliance} {compliance}."
    ]
    if versus_base is not None:
        evidence.append(_versus_base_text(versus_base, task))
    # Why the pick rather than the leader: the leader missed the format threshold, forgets, or costs more.
    reason = (
        "format"
        if leader.name in dropped
        else "forgetting"
        if leader.name in forgetful
        else "margin"
        if pick in close and _clearly_worse(pick, leader, compare)
        else "cost"
    )
    qualifiers = ([task.compliant] if dropped else []) + (["non-forgetting"] if forgetful else [])
    cheapest = f"the cheapest {' '.join(qualifiers + ['variant'])}"
    if pick is not leader:
        evidence.append(_tie_text(pick, leader, compare, reason=reason, words=words, margin=margin))
    others_tied = [c.name for c in tied if c is not pick]
    if others_tied and pick is leader:
        evidence.append(f"Within noise of it: {', '.join(others_tied)}; {pick.name} is {cheapest} among these.")
    if undecided:
        evidence.append(
            f"Not shown to be within {margin * 100:g} points of {leader.name}, though not clearly worse either "
            f"(too few items to tell): {', '.join(undecided)}; not recommended over it."
        )
    if dropped:
        evidence.append(
            f"Set aside although tied, for {words.compliance} below {FORMAT_THRESHOLD:.0%}: {', '.join(dropped)}."
        )
    if forgetful:
        evidence.append(
            f"Set aside although tied, because they clearly forget on a probe task: {', '.join(forgetful)}."
        )
    evidence += _forgetting_evidence(pick)
    llm = [c for c in ready if not c.classical]
    best_llm = max(llm, key=lambda c: (c.score["value"], c.second.get("value") or 0, -_cost_key(c))) if llm else None
    classical = [c for c in ready if c.classical]
    what_llm_adds = _llm_adds_text(pick, best_llm, compare, words) if pick.classical and best_llm else None
    if classical and not pick.classical:
        best_classical = max(classical, key=lambda c: (c.score["value"], -_cost_key(c)))
        evidence.append(_classical_short_text(best_classical, pick, compare, words, margin))

    not_run_caveats, caveats = caveats, _size_caveat(pick, n_test, label_of(task, "accuracy"))
    if not _compliant(pick):
        caveats.append(
            f"{pick.name} is not {task.compliant}: only {pct(pick.format_compliance.get('value'))} of its outputs "
            f"are {task.compliance_means} (needed: {FORMAT_THRESHOLD:.0%}); anything downstream that relies on "
            "that would reject the rest."
        )
    caveats += _forgetting_caveats(pick, has_probes=any(c.forgetting for c in ready)) + not_run_caveats

    if pick.is_base and len(ready) > 1:
        verdict = "tied"
        headline = (
            f"Keep the base model ({pick.name}): no variant is clearly better on {words.score}, "
            f"and it costs nothing to train."
        )
    elif versus_base is not None and versus_base.verdict != "better":
        verdict = "inconclusive"
        headline = (
            f"Inconclusive: {pick.name} scores best for its cost ({words.score} {num(pick.score['value'])}), "
            f"but it is not clearly better than the base model {base}."
        )
    elif undecided and pick is leader and len(tied) == 1:
        # Not a tie and not clearly ahead either: ship the leader, but do not call it clear.
        verdict = "inconclusive"
        headline = (
            f"Inconclusive: {pick.name} has the best {words.score} ({num(pick.score['value'])}), but "
            f"{', '.join(undecided)} cannot be told apart from it within the practical margin of "
            f"{margin * 100:g} points on {n_test} items; {pick.name} is the better bet."
        )
    else:
        verdict = "clear" if len(tied) == 1 else "tied"
        gain = (
            f", {num(versus_base.delta)} above the base model"
            if versus_base is not None and versus_base.delta is not None
            else ""
        )
        score = f"{words.score} {num(pick.score['value'])}{gain}"
        if verdict == "clear":
            headline = f"Ship {pick.name}: it has the best {words.score}, {num(pick.score['value'])}{gain}."
        elif pick is leader:
            headline = (
                f"Ship {pick.name}: it has the best {words.score}, {num(pick.score['value'])}{gain}, "
                f"and is {cheapest} within noise of it."
            )
        else:
            edge = {
                "format": f"unlike it, {task.compliant}",
                "forgetting": "unlike it, shows no clear forgetting",
                "cost": "cheaper",
                "margin": "cheaper",
            }[reason]
            near = (
                f"within the practical margin ({margin * 100:g} points) of the best ({leader.name})"
                if reason == "margin"
                else f"within noise of the best ({leader.name})"
            )
            headline = f"Ship {pick.name}: {score}; {near}, and {edge}."
    if what_llm_adds:  # the summary says what the LLM variants would add; elsewhere the evidence does
        if verdict in ("clear", "tied") and not pick.is_base:
            headline += " " + what_llm_adds
        else:
            evidence.append(what_llm_adds)
    return Recommendation(
        pick=pick.name,
        verdict=verdict,
        headline=headline,
        evidence=evidence,
        caveats=caveats,
        contenders=[c.name for c in tied],
        rule=rule,
    )


@dataclass(frozen=True)
class Words:
    """The task's metric names, as the recommendation's sentences use them."""

    score: str
    second: str
    compliance: str

    @classmethod
    def of(cls, task: TaskMeasures) -> "Words":
        return cls(score=task.headline.label, second=task.second.label, compliance=task.compliance.label)


def _clearly_worse(candidate: Candidate, leader: Candidate, compare: Compare) -> bool:
    paired = compare(candidate.name, leader.name)
    if paired is not None and paired.n_items and paired.delta_low is not None:
        return paired.delta_low > 0
    low, high = leader.score.get("ci_low"), candidate.score.get("ci_high")
    return low is not None and high is not None and high < low


def _within_margin(candidate: Candidate, leader: Candidate, compare: Compare, margin: float) -> bool:
    """The gap (leader - candidate) is shown to be inside +-margin: its paired 95% interval lies within it."""
    paired = compare(candidate.name, leader.name)
    if paired is not None and paired.n_items and paired.delta_low is not None:
        return -margin <= paired.delta_low and paired.delta_high <= margin
    low, high = candidate.score.get("ci_low"), leader.score.get("ci_high")
    # Unpaired: the largest gap both intervals allow, leader's upper end minus the candidate's lower end.
    return low is not None and high is not None and high - low <= margin


def _forgets(c: Candidate) -> bool:
    return any(f.get("ci_high") is not None and f["ci_high"] < 0 for f in c.forgetting)


def _compliant(c: Candidate) -> bool:
    # A classical classifier writes its label into the answer format: compliant by construction, not measured.
    return c.classical or (c.format_compliance.get("value") or 0) >= FORMAT_THRESHOLD


def _cost_key(c: Candidate) -> float:
    return c.cost if c.cost is not None else float("inf")


def _interval(metric: dict) -> str:
    if metric.get("value") is None:
        return "n/a"
    return f"{num(metric['value'])} (95% CI {num(metric.get('ci_low'))}–{num(metric.get('ci_high'))})"


def _cost_text(c: Candidate) -> str:
    if c.cost is None:
        return "unknown cost"
    return f"${c.cost:,.2f}" if c.cost_unit == "USD" else seconds(c.cost) + " of compute"


def _versus_base_text(p: PairedComparison, task: TaskMeasures) -> str:
    sig = f"p {pvalue(p.mcnemar_p)}" if (p.mcnemar_p or 1) < 0.001 else f"p = {pvalue(p.mcnemar_p)}"
    changes = [
        f"{label_of(task, metric)} {signed(d.value)} (paired 95% CI {signed(d.low)} to {signed(d.high)}"
        + (f": {p.verdict})" if metric == p.metric else ")")
        for metric, d in p.deltas.items()
    ]
    return (
        f"Against the base model {p.a} on the same {p.n_items} items: {'; '.join(changes) or 'no paired score'}; "
        f"it fixed {len(p.fixed)} items and broke {len(p.broke)} (exact McNemar {sig})."
    )


def _tie_text(pick: Candidate, leader: Candidate, compare: Compare, *, reason: str, words: Words, margin: float) -> str:
    paired = compare(pick.name, leader.name)
    if paired is not None and paired.delta is not None:
        gap = f"paired 95% CI of the gap {signed(paired.delta_low)} to {signed(paired.delta_high)}"
    else:
        gap = "their intervals overlap"
    because = {
        "format": f"it meets the {words.compliance.replace(' ', '-')} threshold and {leader.name} does not "
        f"({pct(pick.format_compliance.get('value'))} against {pct(leader.format_compliance.get('value'))})",
        "forgetting": f"{leader.name} clearly forgets on a probe task and {pick.name} does not",
        "cost": f"it is cheaper ({_cost_text(pick)} against {_cost_text(leader)})",
        "margin": f"it is a classical baseline within the practical margin of {margin * 100:g} points, and "
        f"cheaper ({_cost_text(pick)} against {_cost_text(leader)})",
    }[reason]
    if reason == "margin":
        gap = gap if paired is not None and paired.delta is not None else "their intervals do not overlap"
        return (
            f"{leader.name} scored higher ({words.score} {num(leader.score['value'])}; {gap}), but by "
            f"{_points(leader.score['value'] - pick.score['value'])}; {pick.name} is chosen because {because}."
        )
    return (
        f"{leader.name} scored higher ({words.score} {num(leader.score['value'])}), but the gap lies within the "
        f"practical margin of {margin * 100:g} points ({gap}); {pick.name} is chosen because {because}."
    )


def _points(gap: float) -> str:
    value = abs(gap) * 100
    return f"{value:.1f} point" + ("" if round(value, 1) == 1 else "s")


def _cost_ratio(expensive: Candidate, cheap: Candidate) -> str:
    """'120× the compute (2 min 0 s against 1.0 s)', or the two costs alone where a ratio means nothing."""
    what = "the cost" if expensive.cost_unit == "USD" else "the compute"
    both = f"{_cost_text(expensive)} against {_cost_text(cheap)}"
    if expensive.cost is None or cheap.cost is None or cheap.cost <= 0:
        return f"at {both}"
    ratio = expensive.cost / cheap.cost
    times = f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.1f}×"
    return f"at {times} {what} ({both})"


def _paired_gap(a: Candidate, b: Candidate, compare: Compare) -> str:
    """The paired interval of b minus a, to close a parenthesis, or nothing without per-item rows."""
    paired = compare(a.name, b.name)
    if paired is None or paired.delta_low is None:
        return ""
    return f"; paired 95% CI of the difference {signed(paired.delta_low)} to {signed(paired.delta_high)}"


def _llm_adds_text(pick: Candidate, best_llm: Candidate, compare: Compare, words: Words) -> str:
    """What choosing the best LLM variant instead of the classical pick would buy, from the run's own figures."""
    gap = best_llm.score["value"] - pick.score["value"]
    where = "level with it" if abs(gap) < 0.0005 else f"{_points(gap)} {'above' if gap > 0 else 'below'}"
    adds = (
        "free-text answers from a chat model that can also take other instructions "
        if gap <= 0
        else f"those {_points(gap)} and free-text answers from a chat model "
    )
    return (
        f"The best LLM variant, {best_llm.name}, is {where} on {words.score} ({num(best_llm.score['value'])} "
        f"against {num(pick.score['value'])}{_paired_gap(pick, best_llm, compare)}); it would add {adds}"
        f"{_cost_ratio(best_llm, pick)}."
    )


def _classical_short_text(best: Candidate, pick: Candidate, compare: Compare, words: Words, margin: float) -> str:
    """Why the cheap classical baseline was not enough, when an LLM variant is picked."""
    gap = pick.score["value"] - best.score["value"]
    if gap <= margin:  # tied by noise and still not picked: it cost more, or was set aside
        return (
            f"The best classical baseline, {best.name}, is {_points(gap)} below on {words.score} "
            f"({num(best.score['value'])}{_paired_gap(best, pick, compare)}), but was not the cheapest credible choice."
        )
    return (
        f"The best classical baseline, {best.name}, is {_points(gap)} below on {words.score} "
        f"({num(best.score['value'])}{_paired_gap(best, pick, compare)}), beyond the practical margin of "
        f"{margin * 100:g} points; {pick.name} costs {_cost_ratio(pick, best).removeprefix('at ')}."
    )


def _size_caveat(c: Candidate, n_test: int, accuracy: str = "accuracy") -> list[str]:
    n = c.accuracy.get("n") or n_test
    if n >= SMALL_TEST_SET:
        return []
    # The accuracy (Wilson) interval shows the sample size honestly even when every score is 0.
    low, high = c.accuracy.get("ci_low"), c.accuracy.get("ci_high")
    width = (
        f": {c.name}'s {accuracy} interval alone is {num(high - low, 2)} wide"
        if low is not None and high is not None
        else ""
    )
    return [
        f"Small test set, only {n} items{width}. Smaller differences cannot be told apart; "
        f"add test items before relying on this."
    ]


def _forgetting_evidence(c: Candidate) -> list[str]:
    if not c.forgetting:
        return []
    drops = [f for f in c.forgetting if f.get("ci_high") is not None and f["ci_high"] < 0]
    if drops:
        return []
    return [f"No clear forgetting on {len(c.forgetting)} probe task(s)."]


def _forgetting_caveats(c: Candidate, *, has_probes: bool) -> list[str]:
    if not c.trains:
        return []
    if not c.forgetting:
        why = "this variant was not probed" if has_probes else "the run has no probes"
        return [f"Forgetting of general skills was not measured ({why}); add probes to the suite to check it."]
    out = []
    for f in c.forgetting:
        if f.get("ci_high") is not None and f["ci_high"] < 0:
            out.append(
                f"Forgetting: {f['task']} drops by {num(-f['delta'])} after fine-tuning "
                f"(95% CI {signed(f['ci_low'])} to {signed(f['ci_high'])})."
            )
    return out


def _not_run_caveat(not_run: dict[str, str]) -> list[str]:
    if not not_run:
        return []
    return [NOT_RUN_PREFIX + "; ".join(f"{name} ({why})" for name, why in not_run.items()) + "."]
