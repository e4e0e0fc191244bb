"""Give freed memory back to the system, so a run's peak RSS is what it holds, not what it once held.

glibc's malloc raises its mmap threshold as large blocks are freed (up to 32 MB),
after which torch's freed activations stay in the heap as fragments the process
keeps. On a LoRA training step of eight 464-token rows that was 1.5 GB of the
peak (benchmarks/memory_profile.py). A fixed threshold of 64 KB serves every
tensor larger than that from its own mapping, returned whole when freed.
Set once, before the first large allocation; elsewhere (macOS, musl) a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD_BYTES = 64 * 1024
TRIM_THRESHOLD_BYTES = 0  # hand the heap's free top back at once


@functools.cache
def keep_heap_small() -> bool:
    """True when glibc accepted the settings."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
