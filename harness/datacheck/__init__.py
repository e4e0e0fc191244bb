"""`bench data check`: is this data fit to train and test on?

    checks.py      read the files (harness.data.splits's line checks) and run every check -> DataCheckReport
    near_dupes.py  word n-gram shingles; Jaccard (near-duplicates) and containment (leakage) between texts
    report.py      the report: findings, per-split statistics, JSON and the readable text
    fix.py         write cleaned copies (never the inputs)
    command.py     the CLI

Python API, also used before training::

    from harness.datacheck import check_data
    report = check_data({"train": Path(...), "test": Path(...)}, task)   # task may be None
    report.errors, report.warnings, report.exit_code
"""

from harness.datacheck.checks import CheckOptions, check_data
from harness.datacheck.report import DataCheckReport, Finding

__all__ = ["CheckOptions", "DataCheckReport", "Finding", "check_data"]
