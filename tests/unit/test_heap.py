"""The heap setting (harness/core/heap.py): on by default under glibc, off with BENCH_SMALL_HEAP=0."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

PROBE = "from harness.core.heap import keep_heap_small; print(keep_heap_small())"


def applied(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "BENCH_SMALL_HEAP"}
    if env_value is not None:
        env["BENCH_SMALL_HEAP"] = env_value
    # A fresh process: the setting holds for a process's life, and this one's heap is pytest's.
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_glibc_takes_the_setting_unless_switched_off():
    assert applied(None).strip() == "True"
    assert applied("1").strip() == "True"
    assert applied("0").strip() == "False"


# In a fresh process: a 2 MB block comes from its own mapping (mallinfo2's hblks counts them) only while the
# threshold is below 2 MB, and each call applies its threshold, also one applied earlier in the process's life
# (a cached call skipped that, so a Python process could not go back to a threshold it had used).
THRESHOLD_PROBE = """
import ctypes
from harness.core.heap import keep_heap_small

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc.mallinfo2.restype = Mallinfo2
mapped = []
for threshold in (4 << 20, 1 << 20, 4 << 20):
    assert keep_heap_small(threshold)
    before = libc.mallinfo2().hblks
    libc.malloc(2 << 20)  # kept: a freed block would be handed back before it could be counted
    mapped.append(libc.mallinfo2().hblks - before)
print(mapped)
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_each_call_applies_its_threshold():
    env = {k: v for k, v in os.environ.items() if k != "BENCH_SMALL_HEAP"}
    out = subprocess.run([sys.executable, "-c", THRESHOLD_PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[0, 1, 0]"
