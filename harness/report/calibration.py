"""The report's calibration section: does each classifier's confidence mean something, and can it abstain?

Read from each variant's ``metrics.calibration`` and ``metrics.abstention``
(harness/stats/calibration.py computes them in the run): a table of ECE,
Brier, selective accuracy at 50/80/90% coverage and AURC with 95% intervals; a
reliability diagram beside the risk-coverage curve; the abstention threshold
chosen on validation and what it gave on test; and the comparison in words,
each variant against the recommended one ("lora is 12 points more accurate
than tfidf and worse calibrated: ECE 0.18 vs 0.05"), where "better" or "worse"
calibrated is said only when the two ECE intervals do not overlap.

A variant without confidences (a model whose own generate gives no logits,
records older than calibration) is listed as "no confidence", never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.report.build import ReportView, VariantView

NO_CONFIDENCE = "no confidence"


@dataclass
class CalibrationRow:
    variant: VariantView
    calibration: dict | None  # metrics.calibration, or None: no confidence
    abstention: dict | None  # metrics.abstention, or None when the suite does not abstain

    @property
    def name(self) -> str:
        return self.variant.name

    @property
    def accuracy(self) -> float | None:
        return self.variant.metric("accuracy").get("value")

    @property
    def ece(self) -> float | None:
        return (self.calibration or {}).get("ece", {}).get("value")


@dataclass
class CalibrationSection:
    rows: list[CalibrationRow]
    coverages: list[str]  # the keys of selective_accuracy, in order ("0.5", "0.8", "0.9")
    binning: str | None
    brier_means: str | None
    target: float | None  # the suite's abstain target, when it sets one
    findings: list[str] = field(default_factory=list)
    plot: str | None = None  # the reliability diagram and risk-coverage curve, as SVG

    @property
    def measured(self) -> list[CalibrationRow]:
        return [r for r in self.rows if r.calibration]


def calibration_section(view: ReportView, *, draw: bool = True) -> CalibrationSection | None:
    """The section, or None for a task that cannot have it (no labels: no confidence per answer)."""
    if not view.measures.labelled:
        return None
    rows = [
        CalibrationRow(v, v.metrics.get("calibration") or None, v.metrics.get("abstention") or None)
        for v in view.table_order
        if v.ok
    ]
    measured = [r for r in rows if r.calibration]
    first = measured[0].calibration if measured else {}
    abstain = ((view.manifest.get("resolved_config") or {}).get("abstain")) or {}
    section = CalibrationSection(
        rows=rows,
        coverages=list(first.get("selective_accuracy", {})),
        binning=first.get("binning"),
        brier_means=(first.get("brier") or {}).get("means"),
        target=abstain.get("target_accuracy"),
        findings=findings(measured, anchor=getattr(view.recommendation, "pick", None)),
    )
    if draw and measured:
        section.plot = reliability_plot(measured)
    return section


def findings(rows: list[CalibrationRow], anchor: str | None = None) -> list[str]:
    """Each variant against the anchor in words, accuracy gap then calibration: the recommended variant
    (``anchor``, the one a reader would deploy) when it has confidences, else the most accurate one."""
    rows = [r for r in rows if r.ece is not None and r.accuracy is not None]
    if len(rows) < 2:
        return []
    named = [r for r in rows if r.name == anchor]
    best = named[0] if named else max(rows, key=lambda r: (r.accuracy, -r.ece))
    return [compare_sentence(row, best) for row in rows if row is not best]


def compare_sentence(row: CalibrationRow, other: CalibrationRow) -> str:
    """ "lora is 12 points more accurate than tfidf and worse calibrated: ECE 0.18 vs 0.05"; better or worse
    calibrated only when the two ECE intervals do not overlap."""
    points = round((row.accuracy - other.accuracy) * 100)
    if points == 0:
        accuracy = f"{row.name} is as accurate as {other.name} (to the point)"
    else:
        more = "more" if points > 0 else "less"
        accuracy = f"{row.name} is {abs(points)} point{'s' * (abs(points) != 1)} {more} accurate than {other.name}"
    a, b = row.calibration["ece"], other.calibration["ece"]
    if _above(a, b):
        calibrated = "worse calibrated"
    elif _above(b, a):
        calibrated = "better calibrated"
    else:
        calibrated = "about as well calibrated (the ECE intervals overlap)"
    return f"{accuracy} and {calibrated}: ECE {a['value']:.2f} vs {b['value']:.2f}."


def _above(a: dict, b: dict) -> bool:
    return a.get("ci_low") is not None and b.get("ci_high") is not None and a["ci_low"] > b["ci_high"]


def reliability_plot(rows: list[CalibrationRow]) -> str:
    """Left: the reliability diagram (accuracy against mean confidence per bin); right: the risk-coverage curve."""
    from harness.report.plots import figure, to_svg

    with figure("calibration", height=3.2) as fig:
        left, right = fig.subplots(1, 2)
        left.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8, label="perfectly calibrated")
        for row in rows:
            style = row.variant.style
            bins = row.calibration.get("reliability") or []
            left.plot(
                [b["confidence"] for b in bins],
                [b["accuracy"] for b in bins],
                marker=style.marker,
                color=style.colour,
                markersize=4,
                linewidth=1,
                label=row.name,
            )
            curve = row.calibration.get("risk_coverage") or []
            right.plot(
                [c for c, _ in curve],
                [a for _, a in curve],
                marker=style.marker,
                color=style.colour,
                markersize=3,
                linewidth=1,
                label=row.name,
            )
        left.set(xlim=(0, 1.02), ylim=(0, 1.02), xlabel="mean confidence in the bin", ylabel="accuracy in the bin")
        left.set_title(f"reliability ({rows[0].calibration.get('binning', '')})")
        right.set(xlim=(0, 1.02), ylim=(0, 1.02), xlabel="coverage (most confident share answered)")
        right.set_ylabel("selective accuracy")
        right.set_title("risk-coverage")
        left.legend(loc="upper left", fontsize=7)
        return to_svg(fig, "Reliability diagram and risk-coverage curve per variant")
