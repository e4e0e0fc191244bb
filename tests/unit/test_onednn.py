"""oneDNN's primitive cache and ideep's LRU cache are bounded for bench's runs (harness/core/onednn.py),
and each bound takes effect."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.core.onednn import (
    BENCH_CAPACITY,
    CACHES,
    CAPACITY_ENV,
    IDEEP_CAPACITY,
    IDEEP_CAPACITY_ENV,
    bound_primitive_cache,
    cache_capacities,
)

# Matrix products of BENCH_CAPACITY + 1 distinct shapes, then the first shape again: with a cache of
# BENCH_CAPACITY primitives the first one has been evicted and is built again; with oneDNN's 1,024 it is found.
SHAPES_THEN_FIRST_AGAIN = f"""
import torch
from harness.core.onednn import bound_primitive_cache
if {{bound}}:
    bound_primitive_cache()
weight = torch.randn(64, 32, dtype=torch.bfloat16)  # big enough for torch to hand it to oneDNN
for rows in [*range(16, {BENCH_CAPACITY + 17}), 16]:
    torch.nn.functional.linear(torch.randn(rows, 32, dtype=torch.bfloat16), weight)
"""


def stdout_of(script: str, **env_changes: str | None) -> str:
    """``script`` run in a fresh Python (each library reads its capacity once), with neither capacity
    inherited from this process and ``env_changes`` applied (None: removed)."""
    env = {k: v for k, v in os.environ.items() if k not in CACHES.values()}
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout


def last_matmul_creation(bound: bool) -> str | None:
    # One line per primitive created: "create:cache_miss" or "create:cache_hit".
    out = stdout_of(SHAPES_THEN_FIRST_AGAIN.format(bound=bound), ONEDNN_VERBOSE="all")
    created = [line for line in out.splitlines() if ",create:" in line and ",matmul," in line]
    return created[-1].split(",")[3] if created else None


def test_bench_bounds_the_cache_and_oneDNN_then_evicts_what_it_would_have_kept():
    unbounded = last_matmul_creation(bound=False)
    if unbounded is None:
        pytest.skip("torch does not run bf16 matrix products through oneDNN on this CPU: nothing to bound")
    assert unbounded == "create:cache_hit"
    assert last_matmul_creation(bound=True) == "create:cache_miss"


def test_a_capacity_the_user_chose_is_kept():
    env = {CAPACITY_ENV: "512"}
    bound_primitive_cache(env)
    assert env == {CAPACITY_ENV: "512", IDEEP_CAPACITY_ENV: str(IDEEP_CAPACITY)}
    assert cache_capacities(env) == {"onednn_primitive_cache": 512, "ideep_lru_cache": IDEEP_CAPACITY}
    env = {}
    bound_primitive_cache(env)
    assert env == {CAPACITY_ENV: str(BENCH_CAPACITY), IDEEP_CAPACITY_ENV: str(IDEEP_CAPACITY)}
    # The libraries' default, recorded as such when nothing set it.
    assert cache_capacities({}) == {"onednn_primitive_cache": 1024, "ideep_lru_cache": 1024}


# Live malloc'd bytes (glibc's mallinfo2, every arena) before and after bf16 linears, forward and backward,
# of SHAPES distinct shapes (twice ideep's capacity under bench) at SmolLM2's MLP width: ideep keeps a
# computation per shape (0.1 to 0.9 MB each, growing with the rows) until its LRU cache is full.
# oneDNN's own cache is off in both runs, so what grows is ideep's.
LIVE_MEMORY_GROWTH = """
import ctypes, gc, torch
from harness.core.onednn import bound_primitive_cache
if {bound}:
    bound_primitive_cache()

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

info = ctypes.CDLL(None).mallinfo2
info.restype = MallInfo2

def live():
    gc.collect()
    stats = info()
    return stats.uordblks + stats.hblkhd

torch.manual_seed(0)
weight = torch.randn(1536, 576, dtype=torch.bfloat16, requires_grad=True)

def step(rows):  # forward and backward: a training step's three products per layer
    inputs = torch.randn(rows, 576, dtype=torch.bfloat16, requires_grad=True)
    torch.nn.functional.linear(inputs, weight).sum().backward()

step(8)  # the libraries loaded
before = live()
for rows in range(256, 256 + SHAPES):
    step(rows)
print((live() - before) / 2**20)
"""


def live_memory_growth_mb(bound: bool) -> float:
    # oneDNN's cache off either way; glibc's malloc, which mallinfo2 reads.
    script = LIVE_MEMORY_GROWTH.format(bound=bound).replace("SHAPES", str(2 * IDEEP_CAPACITY))
    out = stdout_of(script, **{CAPACITY_ENV: "0", "LD_PRELOAD": None})
    return float(out.split()[-1])


def test_ideeps_cache_grows_with_every_new_shape_unless_bench_bounds_it():
    import ctypes

    if not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("no glibc mallinfo2 (glibc before 2.33, or not glibc) to read live memory with")
    import torch

    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        # bf16 products then bypass oneDNN, so nothing fills ideep's cache, and 2 x 512 emulated bf16 steps
        # took over 8 minutes on a 2-core AVX2 CPU before reaching the skip below.
        pytest.skip("this CPU has no bf16 support in oneDNN: torch does not use ideep's cache for these products")
    unbounded = live_memory_growth_mb(bound=False)
    if unbounded < 50:
        pytest.skip(f"live memory grew {unbounded:.0f} MB: torch does not use ideep's cache on this CPU")
    bounded = live_memory_growth_mb(bound=True)
    # Measured on a 2-core Xeon with AMX: 266 MB kept at ideep's default, 66 MB under bench's bound.
    assert unbounded > 150
    assert bounded < 0.5 * unbounded
