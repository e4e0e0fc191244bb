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
