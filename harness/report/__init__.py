"""The stakeholder report: one self-contained HTML page and a short Markdown summary per run.

    write_report(run_dir)                -> run_dir/report.html (+ run_dir/summary.md)
    write_comparison(run_a, run_b, out)  -> the same view across two runs

The flow inside is one way: ``load`` reads the run folder, ``build`` turns it
into a view-model (with ``paired``, ``failures`` and ``recommend`` doing the
analysis, in the task type's terms from ``measures``), then ``plots``, ``html``
and ``markdown`` render that view.
"""

from harness.report.write import write_comparison, write_report

__all__ = ["write_comparison", "write_report"]
