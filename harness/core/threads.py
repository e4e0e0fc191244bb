"""How many threads torch computes with: the CPUs this process may actually use, not the machine's count.

torch starts one OpenMP thread per core it sees (``os.cpu_count()``), which on a
shared machine counts cores the process may not run on (a CPU affinity mask, a
container's cgroup quota). Threads beyond the CPUs actually granted queue behind
each other at every parallel region; with one other busy process on two cores a
run slowed 3 to 9 times (issue 22). So the count comes from, in order:

1. ``--threads N`` (``bench run``), then the ``BENCH_THREADS`` environment variable;
2. otherwise the CPUs available: the affinity mask (``os.sched_getaffinity``),
   capped by the cgroup's CPU quota when one is set (v2 ``cpu.max``, v1
   ``cpu.cfs_quota_us``; the tightest of the process's cgroup and its ancestors),
   rounded down as Go's automaxprocs does, since a thread beyond the quota is throttled.

Busy cores. At the start the run samples, over a fifth of a second, how much of
its available CPUs other processes use (``/proc/stat``'s per-CPU counters for
the CPUs in its affinity mask, less this process's own CPU time); when other
work keeps at least half of them busy, the run says so in one line. The
1-minute load average is recorded beside it and is the test only where there
is no ``/proc/stat``: it lags a minute both ways. A whole legal run beside a
second bench (benchmarks/contention_suite.py) started at load 1.76, seconds into
the competitor's work and below the 2 CPUs, and was not warned; the next run,
alone, started at 3.63 just after the competitor stopped, and was.
Only torch's intra-op threads are set: inter-op threads can only be set before
torch first runs in parallel, and bench's CPU work does not use them.

Waiting threads. torch's OpenMP (libgomp on Linux) lets a thread that reaches a
barrier spin for a while before it sleeps. Alone that saves a wake-up; beside
another busy process the spinning threads burn the cores the other's threads
need. Rank scoring of 8 legal items beside a second bench doing the same
(benchmarks/contention.py, 2 cores, both on 2 threads) took 2.38x its time
alone with libgomp's default spin, 1.67x with a short spin
(``GOMP_SPINCOUNT=10000``); alone the two were within noise (16.8 s and 16.2 s;
15.5 s and 15.6-17.1 s in an earlier pair). A whole legal_classifier run (a
slice, benchmarks/contention_suite.py) beside a second bench took 2.21x its time
alone with the short spin, 7.11x with the default. So the ``bench`` command sets that
short spin before torch loads (``short_spin``), unless ``OMP_WAIT_POLICY`` or
``GOMP_SPINCOUNT`` is set already or ``BENCH_SHORT_SPIN=0``. libgomp reads it
once, when torch loads: from Python, set it before importing torch.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Mapping, MutableMapping

from harness.core.errors import BenchError

THREADS_ENV = "BENCH_THREADS"
SHORT_SPIN_ENV = "BENCH_SHORT_SPIN"
SHORT_SPIN = {"GOMP_SPINCOUNT": "10000"}  # iterations a waiting OpenMP thread spins before it sleeps
OPENMP_WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
PROC_CGROUP = Path("/proc/self/cgroup")
PROC_STAT = Path("/proc/stat")
BUSY_SHARE = 0.5  # other work on at least this share of the available CPUs: warn
BUSY_SAMPLE_SECONDS = 0.2
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class ThreadPolicy:
    """What was chosen and why; ``record()`` is what manifest.json keeps under ``threads``."""

    threads: int  # torch.get_num_threads() after applying
    source: str  # "--threads", "BENCH_THREADS" or "available CPUs"
    available_cpus: int  # affinity capped by the cgroup quota
    affinity_cpus: int
    cgroup_cpu_quota: float | None  # CPUs the quota allows (1.5: one and a half); None: no quota
    load_1min: float | None  # the load average at start; None where the system does not report one
    warnings: tuple[str, ...] = ()
    openmp_wait: str = "OpenMP's default"  # GOMP_SPINCOUNT / OMP_WAIT_POLICY as the run has them (short_spin)
    # CPUs' worth of other processes' use of this process's CPUs at start (other_cpu_use); None: not measurable
    others_cpu_use: float | None = None

    @property
    def busy(self) -> bool:
        if self.others_cpu_use is not None:
            return self.others_cpu_use >= BUSY_SHARE * self.available_cpus
        return self.load_1min is not None and self.load_1min >= self.available_cpus

    def record(self) -> dict:
        out = asdict(self)
        out["warnings"] = list(self.warnings)
        out["busy"] = self.busy
        return out


def affinity_cpus() -> int:
    """CPUs the scheduler may run this process on (all of them where the OS has no affinity call)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cgroup_cpu_quota(proc_cgroup: Path = PROC_CGROUP, root: Path = CGROUP_ROOT) -> float | None:
    """CPUs this process's cgroup quota allows (quota / period), the tightest along its cgroup path; None: no quota.

    ``proc_cgroup`` is ``/proc/self/cgroup``: ``0::/path`` for cgroup v2, ``N:cpu,cpuacct:/path`` for v1.
    Inside a container the path is often one the container cannot see under ``root``; the folders that do
    not exist are skipped, and ``root`` itself (the container's own cgroup) is always read.
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and not controllers:
            quotas += [q for folder in _upwards(root, path) if (q := _v2_quota(folder / "cpu.max")) is not None]
        elif "cpu" in controllers.split(","):
            # v1 mounts the controller under its own name, or joined with cpuacct.
            for mount in (root / controllers, root / "cpu", root / "cpu,cpuacct"):
                if mount.is_dir():
                    quotas += [q for folder in _upwards(mount, path) if (q := _v1_quota(folder)) is not None]
                    break
    return min(quotas) if quotas else None


def _upwards(root: Path, path: str) -> list[Path]:
    """``root/a/b``, ``root/a``, ``root``: a parent's quota bounds every cgroup below it."""
    parts = [p for p in path.strip().split("/") if p and p not in (".", "..")]
    return [root.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _v2_quota(cpu_max: Path) -> float | None:
    try:
        quota, period = cpu_max.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


def available_cpus(affinity: int, quota: float | None) -> int:
    """The affinity mask capped by the quota, rounded down, at least one."""
    return max(1, min(affinity, math.floor(quota)) if quota is not None else affinity)


def requested_threads(option: int | None, env: Mapping[str, str]) -> tuple[int | None, str | None]:
    """(threads, where from) asked for by ``--threads`` or ``BENCH_THREADS``; (None, None) when neither."""
    if option is not None:
        return option, "--threads"
    raw = env.get(THREADS_ENV, "").strip()
    if not raw:
        return None, None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise BenchError(f"{THREADS_ENV}: expected a whole number of threads, 1 or more, not {raw[:20]!r}")
    return value, THREADS_ENV


def load_average() -> float | None:
    """The 1-minute load average; None where the system has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def other_cpu_use(seconds: float = BUSY_SAMPLE_SECONDS, proc_stat: Path = PROC_STAT) -> float | None:
    """CPUs' worth of work other processes do on this process's CPUs, sampled over ``seconds``; None where
    ``/proc/stat`` cannot be read. This process sleeps through the sample, and its own CPU time (other threads)
    is taken off."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    before, own_before = busy_and_total_ticks(proc_stat, cpus), time.process_time()
    if before is None:
        return None
    time.sleep(seconds)
    after, own = busy_and_total_ticks(proc_stat, cpus), time.process_time() - own_before
    if after is None or after[1] <= before[1]:
        return None
    busy, total = after[0] - before[0], after[1] - before[1]
    n_cpus = len(cpus) if cpus else (os.cpu_count() or 1)
    # busy / total is the share of the CPUs' time spent working; own is in seconds of CPU over the window.
    return max(0.0, busy / total * n_cpus - own / seconds)


def busy_and_total_ticks(proc_stat: Path, cpus: set[int] | None) -> tuple[int, int] | None:
    """(working, all) clock ticks summed over ``cpus`` (every CPU when None), from ``/proc/stat``'s ``cpuN`` lines:
    user nice system idle iowait irq softirq steal ...; idle and iowait are not working."""
    try:
        lines = proc_stat.read_text().splitlines()
    except OSError:
        return None
    busy = total = 0
    for line in lines:
        name, *fields = line.split()
        is_one_cpu = name.startswith("cpu") and name[3:].isdigit()  # "cpu3", not the "cpu" total nor "ctxt"
        if not is_one_cpu or (cpus is not None and int(name[3:]) not in cpus):
            continue
        ticks = [int(field) for field in fields[:8]]
        cpu_total = sum(ticks)
        total += cpu_total
        busy += cpu_total - ticks[3] - ticks[4]
    return (busy, total) if total else None


def choose_threads(
    option: int | None = None,
    *,
    env: Mapping[str, str] | None = None,
    affinity: Callable[[], int] = affinity_cpus,
    quota: Callable[[], float | None] = cgroup_cpu_quota,
    load: Callable[[], float | None] = load_average,
    others: Callable[[], float | None] = other_cpu_use,
) -> ThreadPolicy:
    """The policy for this process, without applying it. The readers are arguments so tests can fake a machine."""
    env = os.environ if env is None else env
    n_affinity, n_quota = affinity(), quota()
    available = available_cpus(n_affinity, n_quota)
    asked, source = requested_threads(option, env)
    threads = asked if asked is not None else available
    warnings = []
    if asked is not None and asked > available:
        warnings.append(
            f"{source} {asked} is more than the {available} CPUs available to bench: threads will take turns on them"
        )
    policy = ThreadPolicy(
        threads=threads,
        source=source or "available CPUs",
        available_cpus=available,
        affinity_cpus=n_affinity,
        cgroup_cpu_quota=n_quota,
        load_1min=load(),
        openmp_wait=openmp_wait(env),
        others_cpu_use=others(),
    )
    if policy.busy:
        warnings.append(
            f"the cores are busy: {_busy_evidence(policy)}; this run will be slower and its timings noisier"
        )
    return replace(policy, warnings=tuple(warnings))


def _busy_evidence(policy: ThreadPolicy) -> str:
    if policy.others_cpu_use is not None:
        return f"other processes are using {policy.others_cpu_use:.1f} of the {policy.available_cpus} CPUs available"
    return (
        f"load average {policy.load_1min:.1f} over the last minute on {policy.available_cpus} available CPUs "
        "(it counts every process, bench's own start included)"
    )


def apply_thread_policy(option: int | None = None, **readers) -> ThreadPolicy:
    """Choose (see ``choose_threads``) and set torch's thread count; once, at the start of a run."""
    import torch

    policy = choose_threads(option, **readers)
    torch.set_num_threads(policy.threads)
    return policy


def short_spin(env: MutableMapping[str, str] | None = None) -> None:
    """Set libgomp's short spin in ``env`` (the process's environment) unless the user chose a wait policy
    or turned it off (``BENCH_SHORT_SPIN=0``). Call it before torch is imported."""
    env = os.environ if env is None else env
    if _wait_settings(env) or env.get(SHORT_SPIN_ENV, "").strip() == "0":
        return
    env.update(SHORT_SPIN)


def openmp_wait(env: Mapping[str, str]) -> str:
    """How waiting OpenMP threads behave in this run (manifest.json's ``threads.openmp_wait``)."""
    return ", ".join(_wait_settings(env)) or "OpenMP's default"


def _wait_settings(env: Mapping[str, str]) -> list[str]:
    """``NAME=value`` for each OpenMP wait variable set in ``env``."""
    return [f"{name}={env[name]}" for name in OPENMP_WAIT_VARIABLES if env.get(name, "").strip()]
