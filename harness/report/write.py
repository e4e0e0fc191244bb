"""Write the report files, atomically: a reader (or a mail client) never sees half a page."""

from __future__ import annotations

from pathlib import Path

from harness.core.files import atomic_write_text
from harness.report import plots
from harness.report.build import build_view
from harness.report.html import render_report
from harness.report.markdown import render_summary

REPORT_NAME = "report.html"
SUMMARY_NAME = "summary.md"


def write_report(run_dir: str | Path) -> Path:
    """Write ``run_dir/report.html`` and ``run_dir/summary.md``; return the HTML path."""
    run_dir = Path(run_dir)
    view = build_view(run_dir)
    html_path = run_dir / REPORT_NAME
    atomic_write_text(html_path, render_report(view, plots.all_plots(view)))
    atomic_write_text(run_dir / SUMMARY_NAME, render_summary(view))
    return html_path


def write_comparison(run_a: str | Path, run_b: str | Path, out: str | Path | None = None) -> Path:
    """Compare two runs; write ``out`` (default ``RUN_B/compare-<RUN_A name>.html``) and its .md summary beside it."""
    from harness.report.compare import build_comparison, render_comparison, render_comparison_summary

    comparison = build_comparison(run_a, run_b)
    html_path = Path(out) if out else Path(run_b) / f"compare-{Path(run_a).name}.html"
    atomic_write_text(html_path, render_comparison(comparison))
    atomic_write_text(html_path.with_suffix(".md"), render_comparison_summary(comparison))
    return html_path
