"""Measuring what a stage costs: wall time and peak memory.

Peak memory on CPU is the process's resident set size, sampled by a thread
(the kernel's lifetime peak, ru_maxrss, cannot be reset between variants); on
CUDA it is torch's peak allocated, reset at the start of the stage.
"""

from __future__ import annotations

import threading
import time

import psutil


class Measure:
    """``with Measure() as m: ...`` then ``m.seconds``, ``m.peak_rss_mb``, ``m.peak_cuda_mb``."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.seconds = 0.0
        self.peak_rss_mb = 0.0
        self.peak_cuda_mb: float | None = None
        self._stop = threading.Event()

    def __enter__(self) -> "Measure":
        import torch

        self._cuda = torch.cuda.is_available()
        if self._cuda:
            torch.cuda.reset_peak_memory_stats()
        self._process = psutil.Process()
        self._sample()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        self._started = time.perf_counter()
        return self

    def _sample(self) -> None:
        self.peak_rss_mb = max(self.peak_rss_mb, self._process.memory_info().rss / 2**20)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._started
        self._stop.set()
        self._thread.join()
        self._sample()
        if self._cuda:
            import torch

            self.peak_cuda_mb = torch.cuda.max_memory_allocated() / 2**20
