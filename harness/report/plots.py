"""The report's figures: matplotlib, drawn to SVG text that is inlined in the page.

Rules that keep the page self-contained, safe and stable:
- the object API on the Agg-free ``Figure`` (no pyplot state, no GUI backend);
- ``svg.fonttype: none`` writes text as <text> (small files, selectable text);
  matplotlib's SVG writer XML-escapes it, so a label like ``<script>`` stays text;
- ``text.parse_math`` off: a ``$`` in a label from the data is a dollar sign;
  so no axis may use a formatter that writes mathtext (matplotlib's log-axis
  default writes ``$\\mathdefault{10^{2}}$``, which would show as raw markup):
  log axes go through ``plain_log_x``;
- a fixed ``svg.hashsalt`` per figure and no date in the metadata: the same run
  gives byte-identical SVG, and ids do not collide between figures on one page;
- Okabe-Ito colours, each paired with a marker shape, and direct labels, so no
  figure depends on telling colours apart.
"""

from __future__ import annotations

import io
import math
import re
from contextlib import contextmanager

from harness.core.errors import require
from harness.report.build import OKABE_ITO, ReportView, VariantView
from harness.report.format import sentence

RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
}
WIDTH = 7.0  # inches; the page scales the SVG to its column
GREY = "#666666"


def available() -> bool:
    try:
        require("matplotlib", feature="report plots")
    except Exception:
        return False
    return True


@contextmanager
def figure(name: str, height: float, width: float = WIDTH):
    """A fresh figure whose SVG ids are salted with ``name`` (unique on the page, stable across runs)."""
    require("matplotlib", feature="report plots")
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({**RC, "svg.hashsalt": f"bench-{name}", "svg.id": f"fig-{name}"}):
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig


def to_svg(fig, title: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and DOCTYPE: not allowed inside HTML
    # Let the page size it: keep the viewBox, drop the fixed size, say what it shows.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{_attr(title)}" class="plot"', 1)
    return svg


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def plain_number(value: float, _position=None) -> str:
    """A tick label as plain text: 1,000 / 50 / 0.02 (never mathtext, never 1e+03 below a million)."""
    if value >= 1e6 or 0 < value < 1e-4:
        return f"{value:.0e}"
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def plain_log_x(ax, low: float, high: float) -> None:
    """A log x axis whose ticks are plain numbers: 1, 2 and 5 per decade over a short range, decades alone over a long one.

    The minor ticks stay as marks without labels; with at most three labels a
    decade (and one a decade past 2.5 decades) they do not crowd the 7-inch figure.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    decades = math.log10(high / low) if low > 0 and high > low else 1.0
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(plain_number))
    ax.xaxis.set_minor_formatter(NullFormatter())


def error_bars(metric: dict) -> tuple[float, float]:
    """Distances from the value down to ci_low and up to ci_high (zero where an end is unknown)."""
    value = metric["value"]
    low, high = metric.get("ci_low"), metric.get("ci_high")
    return (max(value - low, 0.0) if low is not None else 0.0, max(high - value, 0.0) if high is not None else 0.0)


def all_plots(view: ReportView) -> dict[str, str]:
    """Every figure the page shows, by name; a figure with no data is left out (the page says why)."""
    if not available():
        return {}
    plots = {}
    ok = view.ok_variants
    if ok:
        plots["intervals"] = intervals(view)
        plots["pareto"] = pareto(view)
    if view.rank_groups:
        plots["rank"] = rank_curve(view)
    if view.trained_variants:
        plots["loss"] = loss_curves(view)
    if view.probes:
        plots["forgetting"] = forgetting(view)
    for v in ok:
        if v.metric("confusion").get("matrix"):
            plots[f"confusion:{v.name}"] = confusion(v)
    return plots


def intervals(view: ReportView) -> str:
    """The headline metric and the one beside it (macro-F1 and accuracy, ...) per variant, with 95% intervals."""
    rows = [v for v in view.table_order if v.ok][::-1]  # top of the chart = first row of the table
    second, headline = view.measures.second, view.measures.headline
    with figure("intervals", height=0.9 + 0.42 * len(rows)) as fig:
        ax = fig.add_subplot()
        for offset, metric, label, colour, marker in (
            (0.12, second.key, second.label, OKABE_ITO[0], "o"),
            (-0.12, headline.key, headline.label, OKABE_ITO[1], "s"),
        ):
            xs, lo, hi, ys = [], [], [], []
            for i, v in enumerate(rows):
                m = v.metric(metric)
                if m.get("value") is None:
                    continue
                below, above = error_bars(m)
                xs.append(m["value"])
                lo.append(below)
                hi.append(above)
                ys.append(i + offset)
            ax.errorbar(
                xs,
                ys,
                xerr=[lo, hi],
                fmt=marker,
                color=colour,
                ecolor=colour,
                capsize=3,
                markersize=6,
                label=f"{label} (95% CI)",
            )
        ax.set_yticks(range(len(rows)), [v.name for v in rows])
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("score on the test set")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
        return to_svg(fig, f"{sentence(second.label)} and {headline.label} per variant with 95% intervals")


def pareto(view: ReportView) -> str:
    """Headline quality against cost; the front joins the variants no other beats on both."""
    headline = view.measures.headline
    points = [
        (view.cost_of(v), v.metric(headline.key), v)
        for v in view.ok_variants
        if view.cost_of(v) is not None and v.metric(headline.key).get("value") is not None
    ]
    with figure("pareto", height=3.8) as fig:
        ax = fig.add_subplot()
        for cost, m, v in points:
            below, above = error_bars(m)
            ax.errorbar(
                [cost],
                [m["value"]],
                yerr=[[below], [above]],
                fmt=v.style.marker,
                color=v.style.colour,
                capsize=3,
                markersize=7,
                label=v.name,
                alpha=0.95,
            )
            ax.annotate(v.name, (cost, m["value"]), textcoords="offset points", xytext=(6, 5), fontsize=8)
        front = pareto_front([(c, m["value"]) for c, m, _ in points])
        if len(front) > 1:
            ax.step(
                [c for c, _ in front],
                [q for _, q in front],
                where="post",
                color=GREY,
                linestyle="--",
                linewidth=1,
                label="Pareto front",
            )
        costs = [c for c, _, _ in points if c > 0]
        if costs and max(costs) / min(costs) > 20:
            plain_log_x(ax, min(costs), max(costs))
        ax.set_xlabel(
            "cost: USD" if view.cost_unit == "USD" else "cost: compute seconds (training + inference on the test set)"
        )
        ax.set_ylabel(f"{headline.label} (95% CI)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="lower right", fontsize=8)
        return to_svg(fig, "Quality against cost with the Pareto front")


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points that no other point beats on both cost (lower) and quality (higher), by cost."""
    front: list[tuple[float, float]] = []
    for cost, quality in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or quality > front[-1][1]:
            front.append((cost, quality))
    return front


def rank_curve(view: ReportView) -> str:
    with figure("rank", height=3.2) as fig:
        ax = fig.add_subplot()
        ranks: set[int] = set()
        for i, group in enumerate(view.rank_groups):
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            for metric, style, marker, label in (
                (view.measures.headline.key, "-", "s", view.measures.headline.label),
                (view.measures.second.key, ":", "o", view.measures.second.label),
            ):
                xs, ys, lo, hi = [], [], [], []
                for rank, name in group.points:
                    m = view.variant(name).metric(metric)
                    if m.get("value") is None:
                        continue
                    below, above = error_bars(m)
                    xs.append(rank)
                    ys.append(m["value"])
                    lo.append(below)
                    hi.append(above)
                    ranks.add(rank)
                ax.errorbar(
                    xs,
                    ys,
                    yerr=[lo, hi],
                    fmt=marker,
                    linestyle=style,
                    color=colour,
                    capsize=3,
                    label=f"{group.name}: {label}",
                )
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(ranks), [str(r) for r in sorted(ranks)])
        ax.minorticks_off()
        ax.set_xlabel("LoRA rank r")
        ax.set_ylabel("score (95% CI)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=8)
        return to_svg(fig, "Quality against LoRA rank")


def loss_curves(view: ReportView) -> str:
    with figure("loss", height=3.4) as fig:
        ax = fig.add_subplot()
        for v in view.trained_variants:
            train = v.training.get("loss_curve") or []
            ax.plot(
                [p["step"] for p in train],
                [p["loss"] for p in train],
                color=v.style.colour,
                linewidth=1.4,
                label=f"{v.name}: training",
            )
            val = v.training.get("eval_curve") or []
            if val:
                ax.plot(
                    [p["step"] for p in val],
                    [p["eval_loss"] for p in val],
                    color=v.style.colour,
                    linestyle="--",
                    marker=v.style.marker,
                    markersize=5,
                    linewidth=1.2,
                    label=f"{v.name}: validation",
                )
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss")
        ax.legend(fontsize=8, ncol=2)
        return to_svg(fig, "Training (solid) and validation (dashed) loss per trained variant")


def forgetting(view: ReportView) -> str:
    """Probe score change against the base model, per task and variant; left of zero is forgetting."""
    rows: list[tuple[str, VariantView, dict]] = []
    for probe in view.probes:
        for v in view.variants:
            if v.name in probe.deltas and probe.deltas[v.name].get("delta") is not None:
                rows.append((probe.task, v, probe.deltas[v.name]))
    rows = rows[::-1]
    with figure("forgetting", height=0.9 + 0.32 * max(len(rows), 1)) as fig:
        ax = fig.add_subplot()
        ax.axvline(0, color=GREY, linewidth=1)
        seen: set[str] = set()
        for i, (_task, v, d) in enumerate(rows):
            below, above = error_bars({"value": d["delta"], "ci_low": d.get("ci_low"), "ci_high": d.get("ci_high")})
            ax.errorbar(
                [d["delta"]],
                [i],
                xerr=[[below], [above]],
                fmt=v.style.marker,
                color=v.style.colour,
                capsize=3,
                label=v.name if v.name not in seen else None,
            )
            seen.add(v.name)
        ax.set_yticks(range(len(rows)), [f"{task} · {v.name}" for task, v, _ in rows])
        ax.set_xlabel("change in probe score against the base model (95% CI); below zero = forgetting")
        ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(seen), 4) or 1)
        return to_svg(fig, "Forgetting: probe score deltas against the base model")


def confusion(v: VariantView) -> str:
    """Counts in every cell (so the colour is never the only carrier); shade = share of the gold row."""
    import numpy as np

    conf = v.metric("confusion")
    columns = list(conf["labels"])
    matrix = np.asarray(conf["matrix"], dtype=float)
    rows = columns[: matrix.shape[0]]
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    side = 1.2 + 0.36 * len(columns)  # small in inches, so the text stays legible when the page scales it down
    with figure(f"confusion-{v.name}", height=side, width=side + 0.6) as fig:
        ax = fig.add_subplot()
        ax.grid(False)
        # pcolormesh, not imshow: vector cells, where imshow would embed a raster PNG.
        ax.pcolormesh(
            np.arange(matrix.shape[1] + 1) - 0.5,
            np.arange(matrix.shape[0] + 1) - 0.5,
            shares,
            cmap="Blues",
            vmin=0,
            vmax=1,
            edgecolors="white",
            linewidth=1,
        )
        ax.invert_yaxis()
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                colour = "white" if shares[i, j] > 0.6 else "black"
                weight = "bold" if i == j else "normal"
                ax.text(
                    j, i, f"{int(matrix[i, j])}", ha="center", va="center", color=colour, fontsize=9, fontweight=weight
                )
        ax.set_xticks(range(len(columns)), columns, rotation=35, ha="right")
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(v.name)
        return to_svg(fig, f"Confusion matrix of {v.name}")
