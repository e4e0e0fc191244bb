"""Give freed memory back to the system, so a run's peak RSS is what it holds, not what it once held.

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
time of glibc's default for half its peak. The threshold has to sit above the
blocks a step allocates again and again (served from the heap, they are reused
warm) and below the large activations whose freed fragments bloat it. With a
bf16 base those blocks are half as large, and a CPU with bf16 matrix units
spends less time computing, so page faults weigh more. The same step with a
bf16 base under bf16 autocast (Xeon with AMX, memory_profile.py --dtype bfloat16):

    threshold          peak RSS   s/step
    glibc's default    2,239 MB    12.3
    4 MB (bench)       1,913 MB    13.3
    2 MB               1,541 MB    20.2
    1 MB               1,489 MB    21.8

so a half-precision base gets 4 MB: under 2 GB at 1.08x the default's time,
where 1 MB cost 1.77x. ``BENCH_SMALL_HEAP=0`` leaves glibc's default (for speed
where memory is plentiful). Set before the model loads; elsewhere (macOS, musl)
a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD_BYTES = 1024 * 1024  # an fp32 base
HALF_PRECISION_MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024  # a bf16 or fp16 base
TRIM_THRESHOLD_BYTES = 0  # hand the heap's free top back at once (128 MB measured the same)
SWITCH_ENV = "BENCH_SMALL_HEAP"


def mmap_threshold_for(dtype: str) -> int:
    """The threshold for a base model of this dtype (the table above)."""
    return HALF_PRECISION_MMAP_THRESHOLD_BYTES if dtype in ("bfloat16", "float16") else MMAP_THRESHOLD_BYTES


def keep_heap_small(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """True when glibc accepted the settings; False where it is not glibc or ``BENCH_SMALL_HEAP=0``.
    Applied on every call: one process may run suites of different dtypes (tests, the Python API)."""
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
