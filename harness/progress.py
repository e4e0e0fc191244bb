"""Progress bars for the long stages (loading, training, inference), on stderr."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Progress:
    def __init__(self, console: Console):
        self._bars = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=console, transient=False)

    def __enter__(self) -> "Progress":
        self._bars.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bars.__exit__(*exc)

    @contextlib.contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Callable[..., None]]:
        task_id = self._bars.add_task(description, total=total)

        def advance(**update) -> None:
            self._bars.update(task_id, **update)

        try:
            yield advance
        finally:
            task = self._bars.tasks[task_id]
            self._bars.update(task_id, completed=task.total if task.total is not None else 1,
                              total=task.total if task.total is not None else 1)
