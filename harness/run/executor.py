"""Where variant jobs run.

A variant is an independent job; the runner hands the list to an executor. The
local one runs them in order in this process, sharing the loaded base model. A
later executor can place each job on its own GPU through an existing engine
(Ray, accelerate) without the runner changing.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


class LocalExecutor:
    def map(self, run: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        for job in jobs:
            yield run(job)
