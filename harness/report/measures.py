"""What the report shows for each task type, read from the task type's declarations (harness/tasks).

Each task type names its headline metric (ranks the variants), the metric
beside it, its compliance metric, the variant table's columns, the metrics with
a paired delta, and the words for them (``ReportWords`` in its own file). The
view, the plots, the recommendation and the Markdown summary read them here.
"""

from __future__ import annotations

from harness.tasks import Measures, measures_for

TaskMeasures = Measures  # the name the report's modules use


def label_of(task: Measures, key: str) -> str:
    return task.label(key)


__all__ = ["TaskMeasures", "measures_for", "label_of"]
