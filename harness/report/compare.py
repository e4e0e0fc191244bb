"""The same view across two runs (say, before and after a data change).

Each variant is matched by name. Its two runs are paired on the test items they
share, where an item counts as shared only if its content hash is the same in
both runs, so an edited item is never scored as "fixed" or "broken".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from harness.records import read_run
from harness.report import plots
from harness.report.build import OKABE_ITO, ReportView, SplitView, VariantView, build_view
from harness.report.format import sentence, signed
from harness.report.html import VERDICT_LABELS, environment, page_assets
from harness.report.markdown import interval, md_code, md_text
from harness.report.paired import PairedComparison, compare


@dataclass
class VariantAcross:
    name: str
    a: VariantView | None
    b: VariantView | None
    paired: PairedComparison | None = None  # run B against run A, on the shared items

    @property
    def both(self) -> bool:
        return bool(self.a and self.a.ok and self.b and self.b.ok)

    def delta(self, metric: str) -> float | None:
        if not self.both:
            return None
        va, vb = self.a.metric(metric).get("value"), self.b.metric(metric).get("value")
        return None if va is None or vb is None else vb - va


@dataclass
class SplitChange:
    name: str
    a: SplitView | None
    b: SplitView | None

    @property
    def changed(self) -> bool:
        return (self.a.sha256 if self.a else None) != (self.b.sha256 if self.b else None)


@dataclass
class Comparison:
    a: ReportView
    b: ReportView
    variants: list[VariantAcross]
    splits: list[SplitChange]
    shared_items: int  # test items with the same id and content in both runs
    config_changes: list[tuple[str, str, str]] = field(default_factory=list)  # (dotted key, A, B)
    environment_changes: list[tuple[str, str, str]] = field(default_factory=list)


def build_comparison(run_a: str | Path, run_b: str | Path) -> Comparison:
    folder_a, folder_b = read_run(run_a), read_run(run_b)
    view_a, view_b = build_view(folder_a), build_view(folder_b)
    labels = list(view_b.task.get("labels") or view_a.task.get("labels") or [])

    hashes_a = {r["item_id"]: r.get("item_hash") for r in folder_a.samples}
    hashes_b = {r["item_id"]: r.get("item_hash") for r in folder_b.samples}
    shared = {i for i in hashes_a.keys() & hashes_b.keys() if hashes_a[i] == hashes_b[i]}

    names = list(dict.fromkeys([v.name for v in view_a.variants] + [v.name for v in view_b.variants]))
    across = []
    for name in names:
        a = next((v for v in view_a.variants if v.name == name), None)
        b = next((v for v in view_b.variants if v.name == name), None)
        item = VariantAcross(name=name, a=a, b=b)
        if item.both:
            rows_a = {i: r for i, r in folder_a.samples_of(name).items() if i in shared}
            rows_b = {i: r for i, r in folder_b.samples_of(name).items() if i in shared}
            if rows_a and rows_b:
                item.paired = compare(f"{name} (A)", rows_a, f"{name} (B)", rows_b, labels, view_b.measures.paired)
        across.append(item)

    split_names = list(dict.fromkeys([s.name for s in view_a.splits] + [s.name for s in view_b.splits]))
    splits = [
        SplitChange(
            n,
            next((s for s in view_a.splits if s.name == n), None),
            next((s for s in view_b.splits if s.name == n), None),
        )
        for n in split_names
    ]
    config_a = flatten(view_a.manifest.get("resolved_config") or {})
    config_b = flatten(view_b.manifest.get("resolved_config") or {})
    env_a = flatten(
        {
            "packages": view_a.manifest.get("packages") or {},
            "machine": view_a.manifest.get("machine") or {},
            "git_commit": view_a.manifest.get("git_commit"),
        }
    )
    env_b = flatten(
        {
            "packages": view_b.manifest.get("packages") or {},
            "machine": view_b.manifest.get("machine") or {},
            "git_commit": view_b.manifest.get("git_commit"),
        }
    )
    return Comparison(
        a=view_a,
        b=view_b,
        variants=across,
        splits=splits,
        shared_items=len(shared),
        config_changes=differences(config_a, config_b),
        environment_changes=differences(env_a, env_b),
    )


def flatten(value, prefix: str = "") -> dict[str, str]:
    """Nested config -> {"training.learning_rate": "0.0002", ...}; lists are kept whole, as JSON."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: json.dumps(value, sort_keys=True, default=str)}


def differences(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str, str]]:
    missing = "(absent)"
    return [
        (key, a.get(key, missing), b.get(key, missing))
        for key in sorted(a.keys() | b.keys())
        if a.get(key) != b.get(key)
    ]


def comparison_plot(comparison: Comparison) -> str | None:
    """The headline metric (macro-F1, field F1, pass rate) per variant in run A (hollow) and B (filled), with intervals."""
    rows = [v for v in comparison.variants if v.both][::-1]
    if not rows or not plots.available():
        return None
    headline = comparison.b.measures.headline
    with plots.figure("compare", height=1.0 + 0.45 * len(rows)) as fig:
        ax = fig.add_subplot()
        for offset, side, label, marker, fill in ((0.12, "a", "run A", "o", "none"), (-0.12, "b", "run B", "s", None)):
            xs, ys, lo, hi = [], [], [], []
            for i, item in enumerate(rows):
                m = getattr(item, side).metric(headline.key)
                if m.get("value") is None:
                    continue
                below, above = plots.error_bars(m)
                xs.append(m["value"])
                ys.append(i + offset)
                lo.append(below)
                hi.append(above)
            colour = OKABE_ITO[0] if side == "a" else OKABE_ITO[1]
            ax.errorbar(
                xs,
                ys,
                xerr=[lo, hi],
                fmt=marker,
                color=colour,
                markerfacecolor=fill or colour,
                capsize=3,
                markersize=6,
                label=f"{label}: {headline.label} (95% CI)",
            )
        ax.set_yticks(range(len(rows)), [item.name for item in rows])
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel(f"{headline.label} on the test set")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
        return plots.to_svg(fig, f"{sentence(headline.label)} per variant in run A and run B")


def render_comparison(comparison: Comparison) -> str:
    figure = comparison_plot(comparison)
    return (
        environment()
        .get_template("compare.html.j2")
        .render(c=comparison, plot=figure, verdict_labels=VERDICT_LABELS, **page_assets())
    )


def render_comparison_summary(comparison: Comparison) -> str:
    a, b = comparison.a, comparison.b
    lines = [f"### bench comparison: run A {md_code(a.path.name)} → run B {md_code(b.path.name)}", ""]
    lines.append(f"- Run A recommends: {md_text(a.recommendation.headline, 300)}")
    lines.append(f"- Run B recommends: {md_text(b.recommendation.headline, 300)}")
    changed = [s.name for s in comparison.splits if s.changed]
    lines.append(
        f"- Data changed: {', '.join(changed) if changed else 'none'}; {comparison.shared_items} test items are identical in both runs."
    )
    if comparison.config_changes:
        keys = [md_code(k) for k, _, _ in comparison.config_changes[:6]]
        more = f" and {len(comparison.config_changes) - 6} more" if len(comparison.config_changes) > 6 else ""
        lines.append(f"- Config changed: {', '.join(keys)}{more}.")
    headline = b.measures.headline
    lines += [
        "",
        f"| variant | {headline.label} A | {headline.label} B | change [paired 95% CI] | fixed / broke |",
        "|---|---|---|---|---|",
    ]
    for item in comparison.variants:
        if not item.both:
            state = (
                f"only in run {'A' if item.a and not item.b else 'B'}"
                if not (item.a and item.b)
                else "did not finish in run A or B"
            )
            lines.append(f"| {md_code(item.name)} | {state} | | | |")
            continue
        p = item.paired
        change = (
            f"{signed(p.delta)} [{signed(p.delta_low)}, {signed(p.delta_high)}] {p.verdict}" if p else "no shared items"
        )
        counts = f"+{len(p.fixed)} / −{len(p.broke)}" if p else "—"
        lines.append(
            f"| {md_code(item.name)} | {interval(item.a.metric(headline.key))} | {interval(item.b.metric(headline.key))} "
            f"| {change} | {counts} |"
        )
    lines += [
        "",
        "<sub>intervals are 95% · fixed/broke count items run A got wrong and run B right, and the reverse</sub>",
        "",
    ]
    return "\n".join(lines)
