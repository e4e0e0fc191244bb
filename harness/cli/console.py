"""The console every command prints to (stderr), and the exit codes, one meaning each.

  0  success
  1  the gate found a regression
  2  bad usage, suite, data or environment (the message says what to fix)
  3  the run finished but a variant failed (its error is in results.json)
130  interrupted (Ctrl-C); finished variants are kept and a rerun reuses them
"""

from __future__ import annotations

from rich.console import Console

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_VARIANT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

console = Console(stderr=True)
