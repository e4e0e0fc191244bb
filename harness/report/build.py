"""Gather everything the report shows from one run folder into a view-model.

The view-model is plain data (no HTML, no plotting), so the HTML page, the
Markdown summary and the comparison of two runs all read the same numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.records import Cost, ProbeScores, RunRecord, read_probes, read_run
from harness.records.cost import CLASSICAL
from harness.report.failures import FailureModes, categorise, clip, reading_of, shown, visible
from harness.report.format import CLASSICAL_FORMAT, RANK_FORMAT
from harness.report.measures import TaskMeasures, label_of, measures_for
from harness.report.paired import PairedComparison, compare
from harness.report.recommend import PRACTICAL_MARGIN, Candidate, Recommendation, recommend
from harness.report.seeds import SeedsSection, members_of, seeded_compare, seeds_section

# Okabe & Ito (2008), ordered so the first variants get the colours that read best on white;
# yellow last. Every colour is paired with its own marker shape, so nothing relies on colour alone.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
MARKER_GLYPHS = {"o": "●", "s": "■", "^": "▲", "D": "◆", "v": "▼", "P": "✚", "X": "✖", "*": "★"}
CHANGE_EXAMPLES = 8  # fixed / broken items shown per variant; the counts cover all of them
BASE_KINDS = ("zero_shot",)  # the variant that *is* the base model, against which fixes and breaks are counted


class Fields(dict):
    """A record dict whose missing keys read as None: fields differ between runs and variant kinds,
    and the templates (strict about typos) should show a dash for an absent value, not fail."""

    def __missing__(self, key):
        return None


def fields(value):
    """JSON-like data with every dict, however deep, turned into ``Fields``."""
    if isinstance(value, dict):
        return Fields({k: fields(v) for k, v in value.items()})
    if isinstance(value, list):
        return [fields(v) for v in value]
    return value


@dataclass
class Style:
    colour: str
    marker: str

    @property
    def glyph(self) -> str:
        return MARKER_GLYPHS[self.marker]


@dataclass
class Change:
    """One item whose correctness differs between the base model and a variant."""

    item_id: str
    input: str | None
    gold: str | None
    base_output: str
    base_reading: str  # what the task read from the base model's output
    output: str
    reading: str


@dataclass
class VariantView:
    name: str
    kind: str
    status: str
    reason: str | None
    style: Style
    metrics: dict | None
    cost: Cost
    training: dict | None
    config: dict
    reused: bool = False
    prompt: dict | None = None  # {source, name, system_prompt}: how it was prompted (None: classical)
    inference: dict | None = None  # the inference settings it answered with (None: classical)
    own_settings: list[str] = field(default_factory=list)  # what it set apart from the suite ("prompt terse", "rank")
    is_base: bool = False
    forgetting: list[dict] = field(default_factory=list)  # [{task, delta, ci_low, ci_high, value}]
    vs_base: PairedComparison | None = None
    failures: FailureModes | None = None
    fixed_examples: list[Change] = field(default_factory=list)
    broke_examples: list[Change] = field(default_factory=list)
    recommended: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok" and bool(self.metrics)

    def metric(self, name: str) -> Fields:
        return fields((self.metrics or {}).get(name) or {})

    @property
    def format_measured(self) -> bool:
        """False in rank mode: the answer is chosen among well-formed ones, so compliance is 100% by construction."""
        return self.cost.format_measured

    @property
    def format_note(self) -> str:
        """What the page shows instead of a compliance figure that was not measured."""
        return CLASSICAL_FORMAT if self.classical else RANK_FORMAT

    @property
    def classical(self) -> bool:
        """A classical classifier (tfidf, embedding_classifier): fitted in seconds, no language model involved."""
        return self.cost.inference_mode == CLASSICAL

    @property
    def trains(self) -> bool:
        return bool(self.training)

    @property
    def prompt_label(self) -> str:
        """Where the variant's system prompt came from, in words."""
        source = (self.prompt or {}).get("source")
        if self.prompt is None:
            return "no prompt (reads the item's text)" if self.classical else "—"
        if source == "prompts":
            return f"prompt “{self.prompt.get('name')}”"
        return "its own system prompt" if source == "variant" else "the suite's system prompt"

    @property
    def answers_by(self) -> str:
        """How the variant chose its answers, in words."""
        if self.classical:
            return "classical classifier"
        if not self.inference:
            return "—"
        if self.inference.get("mode") == "rank":
            return "rank: the most likely label"
        return f"generate: up to {self.inference.get('max_new_tokens')} new tokens"

    @property
    def rank(self) -> int | None:
        r = self.config.get("r")
        return r if isinstance(r, int) and not isinstance(r, bool) else None

    @property
    def compute_seconds(self) -> float | None:
        return self.cost.compute_seconds if self.cost else None

    @property
    def worst_forgetting(self) -> dict | None:
        return min(self.forgetting, key=lambda f: f["delta"]) if self.forgetting else None


@dataclass
class SplitView:
    name: str
    path: str
    sha256: str
    items: int
    labels: dict[str, int]


@dataclass
class RankGroup:
    name: str
    points: list[tuple[int, str]]  # (rank, variant), by rank


@dataclass
class ReportView:
    path: Path
    title: str
    suite: dict
    task: dict
    n_test: int
    variants: list[VariantView]
    base: str | None
    recommendation: Recommendation
    cost_unit: str  # "USD" or "s"
    splits: list[SplitView]
    probes: list[ProbeScores]
    probes_raw: str | None  # probe data in a shape this report does not know, shown as JSON
    rank_groups: list[RankGroup]
    manifest: dict
    inputs_note: str | None
    max_new_tokens: int | None
    measures: TaskMeasures = field(default_factory=lambda: measures_for("classification"))
    suite_prompt: str | None = None  # task.system_prompt: what a variant without its own prompt was asked with
    seeds: SeedsSection | None = None  # variants trained once per seed: per-seed scores; None when there are none
    judge: dict | None = None  # results.json "judge": what the suite's judge did (docs/judge.md)

    @property
    def task_type(self) -> str:
        return self.measures.type

    def label(self, metric: str) -> str:
        """How the page names a metric of this task ("field F1 (micro)")."""
        return label_of(self.measures, metric)

    @property
    def min_rouge_l(self) -> float | None:
        """Generation: the per-item pass mark on ROUGE-L, from the resolved suite."""
        return ((self.manifest.get("resolved_config") or {}).get("task") or {}).get("min_rouge_l")

    @property
    def fields(self) -> list[str]:
        """Extraction: the record's fields, in the order the run scored them."""
        return _keys_of(self.ok_variants, "per_field")

    @property
    def constraints(self) -> list[str]:
        """Generation: the constraints the suite set, in the order the run checked them."""
        return _keys_of(self.ok_variants, "per_constraint")

    @property
    def base_model_name(self) -> str | None:
        return ((self.manifest.get("resolved_config") or {}).get("base_model") or {}).get("name")

    def variant(self, name: str) -> VariantView:
        return next(v for v in self.variants if v.name == name)

    @property
    def ok_variants(self) -> list[VariantView]:
        return [v for v in self.variants if v.ok]

    @property
    def not_run(self) -> list[VariantView]:
        return [v for v in self.variants if not v.ok]

    @property
    def trained_variants(self) -> list[VariantView]:
        return [v for v in self.ok_variants if v.training and v.training.get("loss_curve")]

    def cost_of(self, v: VariantView) -> float | None:
        return v.cost.usd if self.cost_unit == "USD" else v.compute_seconds

    @property
    def table_order(self) -> list[VariantView]:
        """Default row order: the recommendation first, then by the headline metric; variants that did not run last."""
        headline = self.measures.headline.key
        return sorted(
            self.variants, key=lambda v: (not v.recommended, not v.ok, -(v.metric(headline).get("value") or 0), v.name)
        )


def _keys_of(variants: list[VariantView], metric: str) -> list[str]:
    keys: list[str] = []
    for v in variants:
        keys += [k for k in v.metric(metric) if k not in keys]
    return keys


def build_view(run: RunRecord | str | Path) -> ReportView:
    if not isinstance(run, RunRecord):
        run = read_run(run)
    results, manifest = run.results, run.manifest
    task = results.task or {}
    labels = results.labels
    measures = measures_for(task.get("type"))
    suite_inference = manifest.config.get("inference") or {}
    max_new_tokens = suite_inference.get("max_new_tokens")
    suite_prompt = (manifest.config.get("task") or {}).get("system_prompt")

    variants = []
    # A seed's member is shown in the seeds section, as a row of the variant whose mean it is part of.
    shown = {name: record for name, record in results.variants.items() if not record.member_of}
    for index, (name, record) in enumerate(shown.items()):
        prompt, inference = _asked_with(record, suite_prompt, suite_inference)
        variants.append(
            VariantView(
                name=name,
                kind=record.kind or "?",
                status=record.status or "?",
                reason=record.reason,
                style=Style(OKABE_ITO[index % len(OKABE_ITO)], MARKERS[index % len(MARKERS)]),
                metrics=record.metrics,
                cost=record.costs,
                training=fields(record.training),
                config=record.config or {},
                reused=bool(record.reused),
                prompt=fields(prompt),
                inference=fields(inference),
                own_settings=_own_settings(prompt, inference, suite_inference),
            )
        )
    base = next((v.name for v in variants if v.kind in BASE_KINDS and v.ok), None)
    measures = _columns_present(measures, variants)

    probes, probes_raw = read_probes(results.probes)
    for v in variants:
        v.is_base = v.name == base
        v.forgetting = [
            {"task": p.task, **p.deltas[v.name]}
            for p in probes
            if v.name in p.deltas and p.deltas[v.name].get("delta") is not None
        ]

    rows = {v.name: run.samples_of(v.name) for v in variants}
    pairs: dict[tuple[str, str], PairedComparison | None] = {}

    seed_members = members_of(results.variants)

    def paired(a: str, b: str) -> PairedComparison | None:
        if (a, b) not in pairs:
            pairs[(a, b)] = (
                compare(a, rows[a], b, rows[b], labels, measures.paired) if rows.get(a) and rows.get(b) else None
            )
            if pairs[(a, b)] is not None and (a in seed_members or b in seed_members):  # every seed of each side
                a_rows, b_rows = ([run.samples_of(m) for m in seed_members.get(n, [])] or [rows[n]] for n in (a, b))
                pairs[(a, b)] = seeded_compare(a, a_rows, b, b_rows, labels, measures.paired)
        return pairs[(a, b)]

    for v in variants:
        if not v.ok:
            continue
        if base and v.name != base:
            v.vs_base = paired(base, v.name)
            if v.vs_base is not None:
                v.fixed_examples = [
                    _change(i, rows[base], rows[v.name], run.inputs, measures.type)
                    for i in v.vs_base.fixed[:CHANGE_EXAMPLES]
                ]
                v.broke_examples = [
                    _change(i, rows[base], rows[v.name], run.inputs, measures.type)
                    for i in v.vs_base.broke[:CHANGE_EXAMPLES]
                ]
        own_max = (v.inference or {}).get("max_new_tokens") or max_new_tokens  # a variant may decode longer
        v.failures = categorise(v.name, list(rows[v.name].values()), own_max, run.inputs, measures.type)

    ok = [v for v in variants if v.ok]
    cost_unit = "USD" if ok and all(v.cost.usd is not None for v in ok) else "s"
    candidates = [
        Candidate(
            name=v.name,
            score=v.metric(measures.headline.key),
            second=v.metric(measures.second.key),
            accuracy=v.metric("accuracy"),
            format_compliance=v.metric("format_compliance"),
            cost=v.cost.usd if cost_unit == "USD" else v.compute_seconds,
            cost_unit=cost_unit,
            is_base=v.is_base,
            trains=v.trains and not v.classical,
            forgetting=v.forgetting,
            classical=v.classical,
        )
        for v in ok
    ]
    n_test = int(task.get("n_test_items") or max((v.metric("accuracy").get("n") or 0 for v in ok), default=0))
    recommendation = recommend(
        candidates,
        paired,
        base=base,
        n_test=n_test,
        not_run={v.name: f"{v.status}: {v.reason}" if v.reason else v.status for v in variants if not v.ok},
        task=measures,
        # runs from before the key have no report: section and get the default
        margin=float((manifest.config.get("report") or {}).get("practical_margin", PRACTICAL_MARGIN)),
    )
    for v in variants:
        v.recommended = v.name == recommendation.pick

    suite = results.suite or manifest.suite or {}
    return ReportView(
        path=run.path,
        title=f"{suite.get('name') or 'bench'} · {run.name}",
        suite=fields(suite),
        task=fields(task),
        n_test=n_test,
        variants=variants,
        base=base,
        recommendation=recommendation,
        cost_unit=cost_unit,
        splits=read_splits(manifest.data),
        probes=probes,
        probes_raw=probes_raw,
        rank_groups=rank_groups(variants),
        manifest=fields(manifest.to_json()),
        inputs_note=run.inputs_note if any(v.failures and v.failures.total for v in variants) else None,
        max_new_tokens=max_new_tokens,
        measures=measures,
        suite_prompt=suite_prompt,
        judge=fields(results.get("judge")),
        seeds=seeds_section(results.variants, measures.headline.key, measures.headline.label, paired),
    )


OPTIONAL_COLUMNS = ("judge_score", "judge_parse_rate")  # only a run with a judge: block has them


def _columns_present(measures: TaskMeasures, variants: list[VariantView]) -> TaskMeasures:
    """Drop the judge's columns from a run without a judge, rather than show a column of dashes."""
    columns = tuple(
        c for c in measures.columns if c.key not in OPTIONAL_COLUMNS or any(v.metric(c.key) for v in variants)
    )
    return replace(measures, columns=columns)


def _asked_with(record, suite_prompt: str | None, suite_inference: dict) -> tuple[dict | None, dict | None]:
    """The variant's prompt and inference records; a record older than per-variant settings used the suite's."""
    if record.prompt is not None or record.inference is not None:
        return record.prompt, record.inference
    if not record.ok or record.costs.inference_mode == CLASSICAL:
        return None, None  # a variant that did not run, or a classical one, asked nothing
    return {"source": "suite", "name": None, "system_prompt": suite_prompt}, dict(suite_inference) or None


def _own_settings(prompt: dict | None, inference: dict | None, suite_inference: dict) -> list[str]:
    """What a variant set apart from the suite, for the variants table: "prompt terse", "rank", "max 32 tokens"."""
    out = []
    if prompt and prompt.get("source") == "prompts":
        out.append(f"prompt {prompt.get('name')}")
    elif prompt and prompt.get("source") == "variant":
        out.append("own prompt")
    for key, say in (("mode", "{}"), ("max_new_tokens", "max {} tokens"), ("batch_size", "batch {}")):
        if inference and key in suite_inference and inference.get(key) != suite_inference.get(key):
            out.append(say.format(inference.get(key)))
    return out


def _change(item_id: str, base_rows: dict, rows: dict, inputs: dict[str, str], task_type: str) -> Change:
    before, after = base_rows[item_id], rows[item_id]
    text = inputs.get(item_id)
    return Change(
        item_id=item_id,
        input=clip(text) if text is not None else None,
        gold=shown(after.get("gold")),
        base_output=visible(before.get("raw_output") or ""),
        base_reading=reading_of(before, task_type),
        output=visible(after.get("raw_output") or ""),
        reading=reading_of(after, task_type),
    )


def read_splits(data: dict | None) -> list[SplitView]:
    """The manifest's data fingerprints, train first, then validation and test."""
    order = {"train": 0, "validation": 1, "test": 2}
    data = data or {}
    return [
        SplitView(
            name=name,
            path=str(d.get("path", "")),
            sha256=str(d.get("sha256", "")),
            items=int(d.get("items") or 0),
            labels=dict(d.get("labels") or {}),
        )
        for name, d in sorted(data.items(), key=lambda kv: (order.get(kv[0], 9), kv[0]))
    ]


_GRID_SUFFIX = re.compile(r"-r\d+(?=-|$)")


def rank_groups(variants: list[VariantView]) -> list[RankGroup]:
    """Variants that differ by LoRA rank: lora-r4 / lora-r16 / lora-r64 form the group "lora"."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for v in variants:
        if v.ok and v.rank is not None:
            key = _GRID_SUFFIX.sub("", v.name) if _GRID_SUFFIX.search(v.name) else v.kind
            groups.setdefault(key, []).append((v.rank, v.name))
    return [RankGroup(name, sorted(points)) for name, points in groups.items() if len({r for r, _ in points}) >= 2]
