"""Forgetting probes: lm-eval tasks run on the base model and each trained variant.

See run.py for the API (run_probes, compare_to_base) and tasks/ for the shipped tasks.
"""

from harness.probes.compare import AdapterNotAppliedError, compare_to_base
from harness.probes.run import PROBE_TASK_DIR, ProbeScores, list_probe_tasks, run_probes

__all__ = [
    "PROBE_TASK_DIR",
    "AdapterNotAppliedError",
    "ProbeScores",
    "compare_to_base",
    "list_probe_tasks",
    "run_probes",
]
