"""Run bench on jemalloc where the machine has it: the small heap's memory at close to glibc's default speed.

A LoRA step frees and allocates the same large activations again and again.
glibc either keeps freed blocks as heap fragments (its default: the RSS grows
well past what the step holds) or, with core/heap.py's fixed mmap threshold,
returns each one and faults its pages in afresh on the next step. jemalloc
reuses freed extents of every size and gives unused pages back after a decay
time, so it keeps the memory of the second without most of its page faults.
One LoRA step on legal_classifier's widest batch (bf16 base, bf16 autocast,
gradient checkpointing; ``benchmarks/memory_profile.py --steps 4 --dtype
bfloat16 --allocator ...``, 2-core Xeon with AMX, alone; seconds per step
over steps 2-4):

    allocator                                  peak RSS   s/step
    glibc's default                            2,419 MB    12.1
    glibc, 1 MB mmap threshold (core/heap.py)  1,486 MB    29.7
    jemalloc's default                         1,437 MB    19.0
    jemalloc, MALLOC_CONF below                1,420 MB    15.2
    tcmalloc (minimal)                         1,414 MB    15.1

The settings: ``oversize_threshold:0`` keeps large tensors in the ordinary
arenas (jemalloc's default sends blocks over 8 MB to an arena that returns them
at once: glibc's page faults again), and a 30 s decay returns pages unused for
a while, outside the hot loops. Inside training steps and prediction batches
decay is off, and what they free is returned at each one's end
(``freed_pages_kept`` below). A run's peak is measured over the whole suite in
benchmarks/README.md.

An allocator is chosen when a process starts, by ``LD_PRELOAD``: the ``bench``
command re-executes itself once with jemalloc preloaded (``use_jemalloc``), as
PyTorch's and Intel's CPU launchers do; the processes it starts (Ray workers,
accelerate's trainers) inherit it. Where jemalloc is not installed (setup.sh
installs Debian's libjemalloc2 where it can), off Linux, or with
``BENCH_ALLOCATOR=glibc``, bench stays on glibc with the heap setting. A
``MALLOC_CONF`` the user set is kept.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import functools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SWITCH_ENV = "BENCH_ALLOCATOR"  # "jemalloc" (the default where installed) or "glibc"
MALLOC_CONF = "oversize_threshold:0,background_thread:true,dirty_decay_ms:30000,muzzy_decay_ms:0"
LIBRARY_NAME = "libjemalloc.so.2"
LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib")


def jemalloc_library() -> str | None:
    """jemalloc's shared library (a path, or a name the dynamic linker finds), or None where it is not installed."""
    if not sys.platform.startswith("linux"):
        return None
    for folder in (*LIBRARY_DIRS, os.path.join(sys.prefix, "lib")):
        path = Path(folder) / LIBRARY_NAME
        if path.is_file():
            return str(path)
    return ctypes.util.find_library("jemalloc")  # ldconfig's cache: other distributions' folders


def wants_glibc(env: MutableMapping[str, str]) -> bool:
    return env.get(SWITCH_ENV, "").strip().lower() == "glibc"


def use_jemalloc(
    argv: Sequence[str],
    env: MutableMapping[str, str] | None = None,
    execv: Callable[[str, list[str]], object] = os.execv,
    library: str | None = None,
) -> None:
    """Re-execute this command (``argv``, sys.argv) with jemalloc preloaded, unless it is already, the user
    chose glibc, or jemalloc is not installed; then it returns and the command goes on, on glibc.
    Call it first, before anything is imported or allocated that the new process would do again."""
    env = os.environ if env is None else env
    if "jemalloc" in env.get("LD_PRELOAD", "") or wants_glibc(env):
        return
    library = library or jemalloc_library()
    if library is None:
        return
    preload = jemalloc_environment(env, library)
    before = {name: env.get(name) for name in preload}  # put back if the start fails
    env.update(preload)
    try:
        execv(sys.executable, [sys.executable, *argv])
    except OSError:  # could not start (a read-only interpreter path, say): go on as we are, on glibc
        for name, value in before.items():  # the environment exactly as it was, for what this process starts
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value


def jemalloc_environment(env: MutableMapping[str, str], library: str) -> dict[str, str]:
    """The variables that start a process on jemalloc with bench's settings: ``library`` preloaded before
    whatever ``env`` preloads already, and bench's ``MALLOC_CONF`` unless ``env`` has one of its own."""
    return {
        "LD_PRELOAD": ":".join(filter(None, [library, env.get("LD_PRELOAD", "")])),
        "MALLOC_CONF": env.get("MALLOC_CONF", MALLOC_CONF),
    }


@functools.cache  # fixed when the process starts; asked at every training step and prediction batch
def on_jemalloc() -> bool:
    """True when this process's malloc is jemalloc's (it is mapped in: preloaded, or linked in)."""
    try:
        return LIBRARY_NAME.split(".so")[0] in Path("/proc/self/maps").read_text()
    except OSError:
        return False


def allocator_record() -> dict:
    """manifest.json's ``allocator``: jemalloc with its settings, or glibc (whose heap setting is ``heap``)."""
    if on_jemalloc():
        return {"name": "jemalloc", "malloc_conf": os.environ.get("MALLOC_CONF", "")}
    return {"name": "glibc"}


# Freed pages kept inside hot loops (training steps, prediction batches), returned between them.
#
# jemalloc's decay (MALLOC_CONF's 30 s) returns freed pages gradually, from the moment they are freed: a
# LoRA step of 15-20 s on a 2-core CPU gets back much of what the previous step freed and faults it in
# again (the legal suite took 338 million minor faults, 15% of its CPU time in the kernel). Decay off for
# the whole process instead ran 1.16x faster but let training's RSS creep from 1.9 to 3.2 GB over 40
# minutes (benchmarks/README.md, "Freed pages kept"). So decay is off only inside a loop, and the loop
# hands its pages back at each iteration's end: what the process holds is one step's high-water mark.

ALL_ARENAS = 4096  # jemalloc's MALLCTL_ARENAS_ALL: "arena.<this>.purge" purges every arena at once
_kept_depth = 0  # nested loops (validation inside training): the outermost one restores the decay


@functools.cache
def _mallctl():
    return ctypes.CDLL(None).mallctl  # jemalloc is preloaded: the process's own symbol table finds it


def _set_decay(milliseconds: int) -> None:
    """Each arena's dirty-page decay, and the default for arenas made later (a new thread's)."""
    mallctl = _mallctl()
    count = ctypes.c_uint(0)
    size = ctypes.c_size_t(ctypes.sizeof(count))
    mallctl(b"arenas.narenas", ctypes.byref(count), ctypes.byref(size), None, ctypes.c_size_t(0))
    value = ctypes.c_ssize_t(milliseconds)
    names = [f"arena.{i}.dirty_decay_ms".encode() for i in range(count.value)] + [b"arenas.dirty_decay_ms"]
    for name in names:
        mallctl(name, None, None, ctypes.byref(value), ctypes.c_size_t(ctypes.sizeof(value)))


def _decay() -> int:
    value = ctypes.c_ssize_t(0)
    size = ctypes.c_size_t(ctypes.sizeof(value))
    _mallctl()(b"arenas.dirty_decay_ms", ctypes.byref(value), ctypes.byref(size), None, ctypes.c_size_t(0))
    return value.value


@contextlib.contextmanager
def freed_pages_kept() -> Iterator[None]:
    """Within: jemalloc keeps the pages freed (no decay) and the loop calls ``return_freed_pages`` at the end of
    each iteration. On leaving: the decay as it was, and what is held returned. Off jemalloc: nothing."""
    global _kept_depth
    outermost = _kept_depth == 0 and on_jemalloc()
    before = _decay() if outermost else None
    if outermost:
        _set_decay(-1)
    _kept_depth += 1
    try:
        yield
    finally:
        _kept_depth -= 1
        if outermost:
            _set_decay(before)  # setting a decay counts every unused page as decayed: returned at once
            return_freed_pages()


def returning_pages_between(items: Iterable[T]) -> Iterator[T]:
    """``items``, one at a time, with freed pages kept while the loop's body runs and returned after each."""
    with freed_pages_kept():
        for item in items:
            yield item
            return_freed_pages()


def return_freed_pages() -> bool:
    """Give the freed pages jemalloc holds back to the system now; True if it did (on jemalloc)."""
    if not on_jemalloc():
        return False
    return _mallctl()(f"arena.{ALL_ARENAS}.purge".encode(), None, None, None, ctypes.c_size_t(0)) == 0
