"""Give freed memory back to the system, so a run's peak RSS is what it holds, not what it once held.

The fallback for a process on glibc's malloc: the bench command runs on jemalloc where it is installed
(core/allocator.py), which keeps the memory for about half of this setting's time.

glibc's malloc raises its mmap threshold as large blocks are freed (up to 32 MB),
after which torch's freed activations stay in the heap as fragments the process
keeps. A fixed threshold serves every tensor larger than it from its own
mapping, returned whole when freed; the price is that each such tensor's pages
are faulted in (and zeroed) afresh. One LoRA training step on legal_classifier's
widest batch (SmolLM2-135M, fp32, gradient checkpointing; benchmarks/memory_profile.py,
quiet machine, seconds per step after the first):

    threshold          peak RSS   s/step
    glibc's default    3,645 MB    28.3
    16 MB              3,461 MB    27.0
    4 MB               2,241 MB    38.2
    1 MB (bench)       1,819 MB    36.7
    64 kB              1,756 MB    43.7

1 MB keeps nearly all of the saving for the least time: about 1.3x the step
time of glibc's default for half its peak. With a bf16 base under bf16
autocast, on a CPU with bf16 matrix units (memory_profile.py --dtype bfloat16),
the same step:

    threshold          peak RSS   s/step
    glibc's default    2,239 MB    12.3
    4 MB               1,913 MB    13.3
    2 MB               1,541 MB    20.2
    1 MB (bench)       1,489 MB    21.8

4 MB looked the better trade there, but a whole legal_classifier run with it
held 3.1 GB of RSS in LoRA training's 32nd step and had reached 4.9 GB by then
(with 1 MB: 2.0 GB in the first training steps), so one step's peak does not
predict a run's: bench keeps 1 MB. ``BENCH_SMALL_HEAP=0`` leaves glibc's
default (for speed where memory is plentiful). Set before the model loads;
elsewhere (macOS, musl) a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD_BYTES = 1024 * 1024
TRIM_THRESHOLD_BYTES = 0  # hand the heap's free top back at once (128 MB measured the same)
SWITCH_ENV = "BENCH_SMALL_HEAP"


def keep_heap_small(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """True when glibc accepted the settings; False where it is not glibc or ``BENCH_SMALL_HEAP=0``.
    Applied on every call, so a process can go back to a threshold it set before (memory_profile.py sets others)."""
    if os.environ.get(SWITCH_ENV, "").strip() == "0":
        return False
    mallopt = _mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


@functools.cache
def _mallopt():
    """glibc's ``mallopt``, or None where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt
