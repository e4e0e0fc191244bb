"""Progress for the long stages (loading, training, inference), on stderr.

In a terminal: live rich bars. Elsewhere (CI logs, files) live bars render as
nothing useful, so each stage prints plain lines instead: its start, every
tenth of the way, and its end with the elapsed time.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from harness.core import quiet


class Progress:
    def __init__(self, console: Console):
        self.console = console
        self.live = console.is_terminal
        self._bars = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            # rich would otherwise show what libraries print above the bars; a quiet run logs it instead (core/quiet.py)
            redirect_stdout=not quiet.keeps_terminal_clear(),
            redirect_stderr=not quiet.keeps_terminal_clear(),
        )

    def __enter__(self) -> "Progress":
        if self.live:
            self._bars.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self._bars.__exit__(*exc)

    @contextlib.contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Callable[..., None]]:
        quiet.reroute_libraries()  # a stage may be the first to import a library that brings its own terminal handler
        if not self.live:
            with self._plain_task(description, total) as advance:
                yield advance
            return
        task_id = self._bars.add_task(description, total=total)

        def advance(**update) -> None:
            self._bars.update(task_id, **update)

        try:
            yield advance
        finally:
            task = self._bars.tasks[task_id]
            self._bars.update(
                task_id,
                completed=task.total if task.total is not None else 1,
                total=task.total if task.total is not None else 1,
            )

    @contextlib.contextmanager
    def _plain_task(self, description: str, total: int | None) -> Iterator[Callable[..., None]]:
        started = time.perf_counter()
        state = {"completed": 0, "total": total, "reported": 0}
        self.console.print(f"{description} ...", highlight=False)

        def advance(advance: int = 0, completed: int | None = None, total: int | None = None) -> None:
            state["completed"] = completed if completed is not None else state["completed"] + advance
            state["total"] = total or state["total"]
            if state["total"]:
                tenth = int(10 * state["completed"] / state["total"])
                if tenth > state["reported"] and tenth < 10:
                    state["reported"] = tenth
                    self.console.print(
                        f"  {description}: {state['completed']}/{state['total']} "
                        f"({time.perf_counter() - started:.0f} s)",
                        highlight=False,
                    )

        yield advance
        self.console.print(f"{description}: done in {time.perf_counter() - started:.1f} s", highlight=False)
