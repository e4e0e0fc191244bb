"""Bound the two per-shape caches under torch's CPU matrix products, which otherwise grow with every new shape.

On a CPU, torch runs bf16 matrix products through oneDNN, by way of ideep (PyTorch's
C++ layer over it). Each keeps a cache keyed by shape, and neither cache is bounded by
anything short of 1,024 entries:

- oneDNN's primitive cache (``ONEDNN_PRIMITIVE_CACHE_CAPACITY``): one compiled
  primitive per shape, with its buffers.
- ideep's own LRU cache (``LRU_CACHE_CAPACITY``): the computation it builds per
  shape around those primitives. It stays when oneDNN's cache is off: about 0.9 MB
  of live memory per new shape for a bf16 linear of SmolLM2's MLP width.

Batches of like length (training's length-grouped batches, inference's prefills)
give almost every batch a new shape, so a run's memory grows with the number of
distinct lengths it has seen until the caches are full, and is not given back when
the run moves on to the next stage: in a legal_classifier run, the live (malloc'd)
memory between LoRA's training steps grew by about 350 MB over the first 90 steps. The
caches only save the rebuilding of a shape that comes back, and within one step
every layer reuses the step's few shapes, so a bounded cache keeps nearly all of
its hits: bench keeps 64 of oneDNN's and 256 of ideep's. Turning oneDNN's cache
off instead made a training step about 3.5 times slower (a pair of runs side by
side): every layer rebuilds every primitive.
benchmarks/onednn_cache.py measures memory and seconds per capacity; the figures
are in benchmarks/README.md.

Both libraries read their variable once, when they first build a primitive, so
``bound_primitive_cache`` runs before torch does any work; a value the user set is kept.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

CAPACITY_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"  # oneDNN's compiled primitives
IDEEP_CAPACITY_ENV = "LRU_CACHE_CAPACITY"  # ideep's computations around them (the name is ideep's)
LIBRARY_DEFAULT = 1024  # the default capacity of each
BENCH_CAPACITY = 64  # oneDNN's: a step's products fit, and oneDNN's entries are the larger ones
# ideep's entries are keyed more finely (a step's forward and backward products of 30 layers): at 64 they
# were evicted within each step and LoRA's steps took 1.17x as long; 256 ran as fast as the default.
IDEEP_CAPACITY = 256
CACHES = {"onednn_primitive_cache": CAPACITY_ENV, "ideep_lru_cache": IDEEP_CAPACITY_ENV}
BENCH_CAPACITIES = {CAPACITY_ENV: BENCH_CAPACITY, IDEEP_CAPACITY_ENV: IDEEP_CAPACITY}


def bound_primitive_cache(env: MutableMapping[str, str] | None = None) -> None:
    """Set bench's capacity for both caches in ``env`` (the process's environment), except one the user chose."""
    env = os.environ if env is None else env
    for name, capacity in BENCH_CAPACITIES.items():
        if not env.get(name, "").strip():
            env[name] = str(capacity)


def cache_capacities(env: MutableMapping[str, str] | None = None) -> dict[str, int | str]:
    """The capacities this run has (manifest.json's ``onednn_primitive_cache`` and ``ideep_lru_cache``):
    bench's, the user's, or the library's default."""
    env = os.environ if env is None else env
    return {key: _capacity(env.get(name, "")) for key, name in CACHES.items()}


def _capacity(value: str) -> int | str:
    value = value.strip()
    if not value:
        return LIBRARY_DEFAULT
    return int(value) if value.isdigit() else value
