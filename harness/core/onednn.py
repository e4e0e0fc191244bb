"""Bound oneDNN's primitive cache, which otherwise holds memory for every matrix shape a run has seen.

On a CPU, torch runs bf16 matrix products through oneDNN, which compiles one
primitive per shape and keeps up to 1,024 of them, each with its own buffers.
Batches of like length (training's length-grouped batches, inference's prefills)
give almost every batch a new shape, so a run's memory grows with the number of
distinct lengths it has seen until the cache is full: about 10 MB per new length
for a two-row LoRA step on SmolLM2-135M, and not given back when the run moves
to the next stage. The cache only saves the recompilation of a shape that comes
back, and within one step every layer reuses the step's few shapes, so a cache of
a few dozen primitives keeps nearly all of its hits (benchmarks/onednn_cache.py
measures memory and seconds per capacity; the figures are in benchmarks/README.md).

oneDNN reads ``ONEDNN_PRIMITIVE_CACHE_CAPACITY`` once, when it first builds a
primitive, so ``bound_primitive_cache`` runs before torch does any work; a value
the user set is kept.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

CAPACITY_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"
ONEDNN_DEFAULT = 1024  # oneDNN's own default capacity
BENCH_CAPACITY = 64


def bound_primitive_cache(env: MutableMapping[str, str] | None = None) -> None:
    """Set bench's capacity in ``env`` (the process's environment) unless the user chose one."""
    env = os.environ if env is None else env
    if not env.get(CAPACITY_ENV, "").strip():
        env[CAPACITY_ENV] = str(BENCH_CAPACITY)


def primitive_cache_capacity(env: MutableMapping[str, str] | None = None) -> int | str:
    """The capacity this run has (manifest.json's ``onednn_primitive_cache``): bench's, the user's, or oneDNN's."""
    env = os.environ if env is None else env
    value = env.get(CAPACITY_ENV, "").strip()
    if not value:
        return ONEDNN_DEFAULT
    return int(value) if value.isdigit() else value
