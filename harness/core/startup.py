"""Set a process up as the ``bench`` command sets itself up, before torch loads.

Each setting below is read once, by a library that loads with torch or at its
first matrix product, so all of them must be in place before anything imports
torch; each module says why bench wants it:

- jemalloc preloaded where installed (core/allocator.py): the process
  re-executes itself once;
- OpenMP's short spin (core/threads.py);
- oneDNN's and ideep's per-shape caches bounded (core/onednn.py);
- with ``heap=True``, on glibc, the heap setting a run takes (core/heap.py).
  ``bench run`` applies that one itself (run/recipe.py), where it records it in
  the manifest, so the command leaves it out here.

The command (cli/__init__.py) and the benchmarks that time bench's own code
call ``start_like_bench``, so a benchmark's bench side runs as users run it.
"""

from __future__ import annotations

from harness.core.allocator import on_jemalloc, use_jemalloc
from harness.core.heap import keep_heap_small
from harness.core.onednn import bound_primitive_cache
from harness.core.threads import short_spin


def start_like_bench(argv: list[str] | None, *, heap: bool = False) -> None:
    """Apply the settings above; ``argv`` re-executes this process on jemalloc (returns if it does not),
    None keeps the allocator this interpreter started with."""
    if argv is not None:
        use_jemalloc(argv)
    short_spin()
    bound_primitive_cache()
    if heap and not on_jemalloc():
        keep_heap_small()
