"""Training seeds as an axis: a trained variant runs once per seed, then its seeds are gathered into one result.

With ``seeds: N`` (the suite's, a variant's own, or ``bench run --seeds N``) a
trained variant ``lora`` becomes N members ``lora-seed1`` ... ``lora-seedN``.
A member is an ordinary variant: its seed (``VariantEnvironment.seed_for`` of
its name) drives adapter initialisation, data order and dropout; it has its
own content key (the name is in the key, so a rerun reuses each finished seed,
and adding a seed trains only the new one), its own folder and its own rows.

``lora`` itself becomes the aggregate (``aggregate``): its declared metrics
are the mean over seeds, with each seed's value, the between-seed standard
deviation and an interval from the two-level bootstrap (harness/stats/seeds.py)
that counts seed variance as well as item variance. Its rows, breakdowns
(per class, confusion), training curves, probes and checks are its first
seed's, so every row in samples.jsonl is an answer a real model gave; its
cost is the mean of its members' (what one training and one evaluation cost).

Kinds that do not train (zero-shot, few-shot, RAG: greedy decoding, a fixed
prompt) and classical classifiers (their lbfgs fit does not draw random
numbers) run once, whatever ``seeds`` says: more runs would repeat the same
answers. With one seed nothing changes: the variant runs under its own name.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean
from typing import Sequence

from harness.core.errors import BenchError
from harness.core.limits import MAX_SEEDS
from harness.core.names import SAFE_NAME_RULE, is_safe_name
from harness.stats import seeds as seed_stats
from harness.tasks.base import metric_keys
from harness.tasks.metrics import parts
from harness.variants.base import Variant, VariantConfig

TaskLabels = tuple[str, Sequence[str]]  # the task type (classification, ...) and its labels (none: empty)


@dataclass(frozen=True)
class SeededVariant:
    """One variant that trains once per seed: the aggregate's name and config, and its members' (seed, config)."""

    name: str
    config: VariantConfig
    members: tuple[tuple[int, VariantConfig], ...]

    @property
    def seeds(self) -> list[dict]:
        """results.json's ``seeds`` field of the aggregate: each seed and the member that trained with it."""
        return [{"seed": k, "variant": member.name} for k, member in self.members]


def member_name(name: str, seed: int) -> str:
    return f"{name}-seed{seed}"


def check_seed_count(seeds: int, where: str) -> int:
    """A seed count from the command line: an int in 1..MAX_SEEDS (the suite's is checked by its schema)."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise BenchError(f"{where}: seeds must be a whole number from 1 to {MAX_SEEDS}, got {seeds!r}")
    return seeds


def seed_count(config: VariantConfig, kind: type[Variant], suite_seeds: int, override: int | None) -> int:
    """How many times this variant trains: ``--seeds`` if given, else its own ``seeds:``, else the suite's;
    1 for kinds whose answers a seed does not change."""
    if not kind.trains:
        return 1
    if override is not None:
        return override
    own = getattr(config, "seeds", None)
    return own if own is not None else suite_seeds


def plan(
    configs: Sequence[VariantConfig], kinds: dict[str, type[Variant]], *, suite_seeds: int, override: int | None
) -> tuple[list[VariantConfig], list[SeededVariant]]:
    """The configs to run (members in place of each seeded variant, in suite order) and the seeded variants."""
    to_run: list[VariantConfig] = []
    seeded: list[SeededVariant] = []
    for config in configs:
        count = seed_count(config, kinds[config.kind], suite_seeds, override)
        if count == 1:
            to_run.append(config)
            continue
        members = []
        for k in range(1, count + 1):
            name = member_name(config.name, k)
            if not is_safe_name(name):
                raise BenchError(
                    f"variant '{config.name}' with {count} seeds: member name '{name}' is not usable: {SAFE_NAME_RULE}",
                    hint="shorten the variant's name",
                )
            members.append((k, config.model_copy(update={"name": name, "seeds": None})))
        to_run += [member for _, member in members]
        seeded.append(SeededVariant(name=config.name, config=config, members=tuple(members)))
    names = [c.name for c in to_run] + [s.name for s in seeded]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise BenchError(
            f"variant name {', '.join(repr(n) for n in clashes)} is both a variant and a seed member",
            hint="a variant trained with seeds: N runs as <name>-seed1 ... <name>-seedN; rename the other variant",
        )
    return to_run, seeded


def aggregate(
    seeded: SeededVariant, records: dict[str, dict], rows: dict[str, list[dict]], task: TaskLabels, *, seed: int
) -> tuple[dict, list[dict]]:
    """The aggregate's result record and sample rows, from its members' records and rows (by member name).

    ``seed`` seeds the bootstrap (the suite's derived seed for the aggregate's name), so a rerun gives the
    same interval. Every member must have finished; otherwise the aggregate did not, for the first reason.
    """
    members = [records[member.name] for _, member in seeded.members]
    first = members[0]
    broken = next((m for m in members if m["status"] != "ok"), None)
    if broken is not None:
        reason = f"{broken['name']} {broken['status']}: {broken.get('reason')}"
        record = {
            "name": seeded.name,
            "kind": seeded.config.kind,
            "status": broken["status"],
            "reason": reason,
            "config": seeded.config.model_dump(mode="json"),
            "metrics": None,
            "cost": {},
            "training": None,
            "seeds": seeded.seeds,
        }
        return record, []
    member_rows = [rows[m["name"]] for m in members]
    record = {
        **{k: v for k, v in first.items() if k not in ("key", "reused", "samples", "traceback")},
        "name": seeded.name,
        "config": seeded.config.model_dump(mode="json"),
        "seed": None,  # each member has its own; the aggregate's bootstrap seed is not a training seed
        "metrics": _metrics(first["metrics"], [m["metrics"] for m in members], member_rows, task, seed=seed),
        "cost": _mean_cost([m["cost"] for m in members]),
        "seeds": seeded.seeds,
        "reused": all(m.get("reused") for m in members),
    }
    return record, [{**row, "variant": seeded.name} for row in member_rows[0]]


def _metrics(first: dict, each: list[dict], member_rows: list[list[dict]], task: TaskLabels, *, seed: int) -> dict:
    """Declared metrics: the two-level bootstrap over the members' per-item rows; any other figure with a value
    (invalid rate): the mean over seeds, without an interval; breakdowns: the first seed's."""
    task_type, labels = task
    declared = set(metric_keys(task_type))
    order = [row["item_id"] for row in member_rows[0]]
    aligned = []
    for rows in member_rows:  # every member answered the same items; paired by item id, not by position
        by_id = {row["item_id"]: row for row in rows}
        if set(by_id) != set(order):
            raise BenchError("the seeds of one variant answered different test items; rerun the suite")
        aligned.append([by_id[i] for i in order])
    out = dict(first)
    for key, value in first.items():
        if not isinstance(value, dict) or "value" not in value:
            continue
        per_seed = [(m.get(key) or {}).get("value") for m in each]
        if key in declared:
            try:
                seed_parts = [parts(key, rows, labels) for rows in aligned]
            except (KeyError, TypeError, ValueError):
                seed_parts = None  # rows without the task's per-item fields: the mean alone, below
            if seed_parts:
                out[key] = seed_stats.over_seeds([p for p, _ in seed_parts], seed_parts[0][1], seed=seed)
                continue
        if any(v is None for v in per_seed):
            continue
        out[key] = {
            "value": fmean(per_seed),
            "ci_low": None,
            "ci_high": None,
            "n": value.get("n"),
            "method": "mean-over-seeds",
            "seeds": len(per_seed),
            "per_seed": per_seed,
            "sd_between_seeds": seed_stats.sample_sd(per_seed),
        }
    return out


def _mean_cost(costs: list[dict]) -> dict:
    """The members' mean for every number (what one training and evaluation took); other fields the first's."""
    out = dict(costs[0])
    for key, value in costs[0].items():
        values = [c.get(key) for c in costs]
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and all(isinstance(v, (int, float)) for v in values)
        ):
            mean = fmean(values)
            out[key] = round(mean) if isinstance(value, int) and all(isinstance(v, int) for v in values) else mean
    return out


def gather(
    seeded: Sequence[SeededVariant], records: list[dict], rows: dict[str, list[dict]], task: TaskLabels, seed_for
) -> tuple[list[dict], dict[str, list[dict]]]:
    """Every record for results.json, each aggregate where its variant stood with its members after it (each
    marked ``member_of``), and the rows by name, the aggregates' added. ``seed_for``: name -> bootstrap seed."""
    by_name = {record["name"]: record for record in records}
    rows = dict(rows)
    placed: dict[str, list[dict]] = {}
    for group in seeded:
        record, group_rows = aggregate(group, by_name, rows, task, seed=seed_for(group.name))
        rows[group.name] = group_rows
        members = [{**by_name[member.name], "member_of": group.name} for _, member in group.members]
        placed[group.members[0][1].name] = [record, *members]
    member_names = {member.name for group in seeded for _, member in group.members}
    ordered = []
    for record in records:
        if record["name"] in placed:
            ordered += placed[record["name"]]
        elif record["name"] not in member_names:
            ordered.append(record)
    return ordered, rows
