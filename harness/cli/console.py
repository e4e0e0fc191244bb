"""The console every command prints to (stderr), and the exit codes, one meaning each.

  0  success
  1  the gate found a regression
  2  bad usage, suite, data or environment (the message says what to fix)
  3  the run finished but a variant failed (its error is in results.json)
130  interrupted (Ctrl-C); finished variants are kept and a rerun reuses them
 70  bench itself failed (a bug): one line here, the traceback in crash.log (run folder, else a temporary file)
"""

from __future__ import annotations

from rich.console import Console

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_VARIANT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CRASH = 70  # EX_SOFTWARE in sysexits.h: never 1, which CI reads as the gate's "regression"

console = Console(stderr=True)
