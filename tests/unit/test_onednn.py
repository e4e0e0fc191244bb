"""oneDNN's primitive cache is bounded for bench's runs (harness/core/onednn.py), and the bound takes effect."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.core.onednn import BENCH_CAPACITY, CAPACITY_ENV, bound_primitive_cache, primitive_cache_capacity

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


def last_matmul_creation(bound: bool) -> str | None:
    env = {k: v for k, v in os.environ.items() if k != CAPACITY_ENV}
    env["ONEDNN_VERBOSE"] = "all"  # one line per primitive created: "create:cache_miss" or "create:cache_hit"
    out = subprocess.run(
        [sys.executable, "-c", SHAPES_THEN_FIRST_AGAIN.format(bound=bound)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
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
    assert env == {CAPACITY_ENV: "512"} and primitive_cache_capacity(env) == 512
    env = {}
    bound_primitive_cache(env)
    assert env == {CAPACITY_ENV: str(BENCH_CAPACITY)} and primitive_cache_capacity(env) == BENCH_CAPACITY
    assert primitive_cache_capacity({}) == 1024  # oneDNN's default, recorded as such when nothing set it


def test_the_bench_command_sets_it_before_anything_runs(monkeypatch, capsys):
    from harness.cli.main import main

    monkeypatch.delenv(CAPACITY_ENV, raising=False)
    assert main(["schema"]) == 0
    capsys.readouterr()
    assert os.environ[CAPACITY_ENV] == str(BENCH_CAPACITY)
