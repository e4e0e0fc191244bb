"""Variants trained once per seed (run/seeds.py): each seed's score, their mean and spread, and what a ranking
between trained variants is worth when retraining alone moves a score.

A seeded variant's record says which members are its seeds (``seeds: [{seed, variant}]``); the report shows
one row per seed with that member's headline metric and interval, then the mean +- the between-seed SD and
the interval over seeds and items. Comparing two trained variants uses every seed of both
(``stats.seeds.paired_over_seeds``), and the page says in words when their gap is within seed noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable, Sequence

from harness.records import VariantResult
from harness.records.cost import CLASSICAL
from harness.report.format import num, signed
from harness.report.paired import Delta, PairedComparison, compare
from harness.stats import seeds as seed_stats
from harness.tasks.metrics import parts

SEED = 0  # the bootstrap's seed: the same run folder gives the same report


@dataclass(frozen=True)
class SeedRow:
    seed: int
    variant: str  # the member that trained with this seed
    metric: dict  # its headline metric: {value, ci_low, ci_high, ...}


@dataclass
class SeededView:
    """One variant trained with several seeds: a row per seed and its mean over seeds (headline metric)."""

    name: str
    rows: list[SeedRow]
    mean: dict  # the aggregate's headline metric: value (mean), ci over seeds and items, per_seed, sd_between_seeds
    trains: bool = True

    @property
    def sd(self) -> float | None:
        return self.mean.get("sd_between_seeds")


@dataclass
class SeedsSection:
    metric: str  # the headline metric's label
    variants: list[SeededView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # rankings within (or beyond) seed noise, in words


def members_of(results_variants: dict[str, VariantResult]) -> dict[str, list[str]]:
    """Seeded variant -> its members' names, in seed order (only variants whose record lists seeds)."""
    return {
        name: [entry["variant"] for entry in record.seeds]
        for name, record in results_variants.items()
        if record.seeds and record.ok
    }


def seeds_section(
    results_variants: dict[str, VariantResult],
    headline: str,
    label: str,
    pair: Callable[[str, str], PairedComparison | None],
) -> SeedsSection | None:
    """The page's seeds section, or None when no variant trained with more than one seed (the page is unchanged)."""
    seeded = []
    for name, record in results_variants.items():
        if not (record.seeds and record.ok):
            continue
        rows = [
            SeedRow(int(e["seed"]), e["variant"], results_variants[e["variant"]].metric(headline))
            for e in record.seeds
            if e.get("variant") in results_variants
        ]
        seeded.append(SeededView(name=name, rows=rows, mean=record.metric(headline)))
    if not seeded:
        return None
    section = SeedsSection(metric=label, variants=seeded)
    section.notes = ranking_notes(seeded, results_variants, headline, pair)
    return section


def ranking_notes(
    seeded: list[SeededView],
    results_variants: dict[str, VariantResult],
    headline: str,
    pair: Callable[[str, str], PairedComparison | None],
) -> list[str]:
    """For each two trained variants of which at least one has seeds: is their order beyond seed noise?

    Within noise: the gap is smaller than the larger between-seed SD, or the interval of the gap over seeds
    and items includes 0. A single training of the other side has no SD of its own; the seeded side's stands
    in for it, since a retrained run of the same kind moves about as much.
    """
    by_name = {s.name: s for s in seeded}
    trained = [
        name
        for name, record in results_variants.items()
        if record.ok
        and record.trains
        and record.costs.inference_mode != CLASSICAL  # a classical fit draws no seed: not a trained model here
        and not record.member_of
        and record.metric(headline).get("value") is not None
    ]
    notes = []
    for a, b in combinations(trained, 2):
        if a not in by_name and b not in by_name:
            continue
        value_a, value_b = (results_variants[n].metric(headline)["value"] for n in (a, b))
        high, low = (a, b) if value_a >= value_b else (b, a)
        gap = abs(value_a - value_b)
        sds = [by_name[n].sd for n in (a, b) if n in by_name and by_name[n].sd is not None]
        if not sds:
            continue
        sd = max(sds)
        compared = pair(low, high)
        delta = compared.headline if compared is not None else None
        interval = f" [{signed(delta.low)}, {signed(delta.high)}]" if delta is not None else ""
        if gap < sd:
            notes.append(
                f"{high} and {low} differ by {num(gap, 3)}, less than the between-seed spread (SD {num(sd, 3)}): "
                "the ranking is not established."
            )
        elif delta is None or delta.low <= 0:
            notes.append(
                f"{high} and {low} differ by {num(gap, 3)}{interval} over seeds and items; the interval includes 0, "
                f"so the ranking is not established (between-seed SD {num(sd, 3)})."
            )
        else:
            notes.append(
                f"{high} ranks above {low} by {num(gap, 3)}{interval} over seeds and items, beyond seed noise "
                f"(between-seed SD {num(sd, 3)})."
            )
    return notes


def seeded_compare(
    a_name: str,
    a_rows: Sequence[dict[str, dict]],
    b_name: str,
    b_rows: Sequence[dict[str, dict]],
    labels: Sequence[str],
    metrics: Sequence[str],
) -> PairedComparison:
    """B against A with every seed of each: the deltas pair items and draw each side's seeds (two-level
    bootstrap); the fixed and broken items and McNemar's test are the first seeds', as their rows are shown.

    ``*_rows``: one {item_id: row} per seed; a variant trained once has one."""
    result = compare(a_name, a_rows[0], b_name, b_rows[0], labels, metrics)
    common = sorted(set.intersection(*(set(rows) for rows in (*a_rows, *b_rows))))
    if not common:
        return result
    result.deltas = {}
    for metric in metrics:
        try:
            side_a = [parts(metric, [rows[i] for i in common], labels) for rows in a_rows]
            side_b = [parts(metric, [rows[i] for i in common], labels) for rows in b_rows]
        except (KeyError, TypeError, ValueError):
            continue  # rows without the task's per-item fields: no delta, as in compare
        delta = seed_stats.paired_over_seeds([p for p, _ in side_a], [p for p, _ in side_b], side_a[0][1], seed=SEED)
        result.deltas[metric] = Delta(*delta)
    return result
