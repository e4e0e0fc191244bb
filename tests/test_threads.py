"""The thread policy (issue 22, item 5): threads from the CPUs actually available, --threads, a busy warning."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from harness.cli.main import build_parser, main
from harness.core.allocator import on_jemalloc
from harness.core.errors import BenchError
from harness.core.threads import (
    THREADS_ENV,
    apply_thread_policy,
    available_cpus,
    busy_and_total_ticks,
    cgroup_cpu_quota,
    choose_threads,
    other_cpu_use,
    short_spin,
)


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def cgroup_files(root, entries: dict[str, str]):
    """Write ``entries`` (path under root -> text) as a fake /sys/fs/cgroup."""
    for path, text in entries.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    return root


def test_cgroup_v2_quota_is_the_tightest_along_the_path(tmp_path):
    proc = tmp_path / "proc_cgroup"
    proc.write_text("0::/user.slice/job\n")
    root = cgroup_files(
        tmp_path / "cg",
        {
            "cpu.max": "max 100000\n",
            "user.slice/cpu.max": "300000 100000\n",
            "user.slice/job/cpu.max": "150000 100000\n",
        },
    )
    assert cgroup_cpu_quota(proc, root) == 1.5
    (root / "user.slice/job/cpu.max").write_text("max 100000\n")  # no quota of its own: the parent's bounds it
    assert cgroup_cpu_quota(proc, root) == 3.0


def test_no_quota_and_unreadable_cgroups_mean_no_limit(tmp_path):
    proc = tmp_path / "proc_cgroup"
    proc.write_text("0::/\n")
    assert cgroup_cpu_quota(proc, cgroup_files(tmp_path / "cg", {"cpu.max": "max 100000\n"})) is None
    assert cgroup_cpu_quota(tmp_path / "missing", tmp_path / "cg") is None


def test_cgroup_v1_quota_inside_a_container_reads_the_mount_root(tmp_path):
    proc = tmp_path / "proc_cgroup"
    # The path names the host's cgroup, which the container does not see; its own is the mount's root.
    proc.write_text("4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/\n")
    root = cgroup_files(
        tmp_path / "cg", {"cpu,cpuacct/cpu.cfs_quota_us": "200000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}
    )
    assert cgroup_cpu_quota(proc, root) == 2.0
    (root / "cpu,cpuacct/cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_quota(proc, root) is None


def test_available_cpus_are_the_affinity_capped_by_the_quota_rounded_down():
    assert available_cpus(8, None) == 8
    assert available_cpus(8, 2.5) == 2
    assert available_cpus(2, 16.0) == 2
    assert available_cpus(4, 0.5) == 1  # half a core still runs one thread


def machine(*, affinity=4, quota=None, load=0.5, others=0.0):
    return dict(affinity=lambda: affinity, quota=lambda: quota, load=lambda: load, others=lambda: others)


def test_threads_come_from_the_option_then_the_environment_then_the_cpus():
    assert choose_threads(None, env={}, **machine(quota=2.0)).threads == 2
    chosen = choose_threads(None, env={THREADS_ENV: "3"}, **machine())
    assert (chosen.threads, chosen.source) == (3, THREADS_ENV)
    chosen = choose_threads(1, env={THREADS_ENV: "3"}, **machine())
    assert (chosen.threads, chosen.source) == (1, "--threads")


def test_a_bad_bench_threads_is_an_error_naming_the_variable():
    with pytest.raises(BenchError, match=f"{THREADS_ENV}: expected a whole number of threads, 1 or more, not 'two'"):
        choose_threads(None, env={THREADS_ENV: "two"}, **machine())


def test_a_busy_machine_is_warned_about_in_one_line():
    quiet = choose_threads(None, env={}, **machine(affinity=2, others=0.3))
    assert not quiet.busy and quiet.warnings == ()
    busy = choose_threads(None, env={}, **machine(affinity=2, others=1.2))
    assert busy.busy and busy.record()["others_cpu_use"] == 1.2
    (warning,) = busy.warnings
    assert "\n" not in warning
    assert warning.startswith("the cores are busy: other processes are using 1.2 of the 2 CPUs available")


def test_busy_is_read_from_the_cpus_now_not_the_lagging_load_average():
    # Measured (benchmarks/contention_suite.py): a run started just after a competitor stopped saw load 3.63 on
    # 2 CPUs, one started seconds into a competitor's work saw 1.76. The sample of the CPUs decides.
    assert not choose_threads(None, env={}, **machine(affinity=2, load=3.6, others=0.1)).busy
    assert choose_threads(None, env={}, **machine(affinity=2, load=1.8, others=2.0)).busy
    # No /proc/stat: the load average is the test, and the warning says what it counts.
    (warning,) = choose_threads(None, env={}, **machine(affinity=2, load=3.0, others=None)).warnings
    assert warning.startswith("the cores are busy: load average 3.0 over the last minute on 2 available CPUs")
    assert "bench's own start included" in warning  # the figure cannot leave this process out
    # Neither figure on this system: nothing to warn about.
    assert choose_threads(None, env={}, **machine(load=None, others=None)).warnings == ()


def test_cpu_ticks_are_summed_over_this_process_cpus_only(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  30 0 30 300 10 0 0 0 0 0\n"
        "cpu0 10 0 10 100 5 0 0 0 0 0\n"  # user nice system idle iowait irq softirq steal guest guest_nice
        "cpu1 20 0 20 200 5 0 0 0 0 0\n"
        "intr 12345\nctxt 678\n"
    )
    assert busy_and_total_ticks(stat, None) == (60, 370)
    assert busy_and_total_ticks(stat, {1}) == (40, 245)
    assert busy_and_total_ticks(tmp_path / "missing", None) is None


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc/stat")
def test_other_cpu_use_sees_another_process_spinning_but_not_this_one():
    # The measure reads the real machine: another job's work (a second test run, a benchmark) would be counted
    # too, rightly, and leave nothing to tell this test's spinner from it.
    already = other_cpu_use(0.5)
    if already > 0.3:
        pytest.skip(f"other processes already use {already:.1f} CPUs here: the spinner could not be told apart")
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # past its start-up
        assert other_cpu_use(0.5) >= 0.7  # one core's worth, give or take the sampling ticks
    finally:
        spinner.kill()
        spinner.wait()
    # This process's own threads are not "other work": a spinning thread here is taken off.
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    spinning = threading.Thread(target=spin)
    spinning.start()
    try:
        assert other_cpu_use(0.5) < 0.5
    finally:
        stop.set()
        spinning.join()


def test_more_threads_than_cpus_is_allowed_with_a_warning():
    (warning,) = choose_threads(8, env={}, **machine(affinity=2)).warnings
    assert warning == "--threads 8 is more than the 2 CPUs available to bench: threads will take turns on them"


def test_the_policy_sets_torch_threads(restore_threads):
    policy = apply_thread_policy(None, env={THREADS_ENV: "1"}, **machine())
    assert torch.get_num_threads() == policy.threads == 1
    apply_thread_policy(None, env={}, **machine(affinity=2))
    assert torch.get_num_threads() == 2


def test_the_threads_option_is_parsed_and_checked(capsys):
    assert build_parser().parse_args(["run", "suite.yaml", "--threads", "1"]).threads == 1
    assert build_parser().parse_args(["run", "suite.yaml"]).threads is None
    with pytest.raises(SystemExit) as exited:
        main(["run", "suite.yaml", "--threads", "0"])
    assert exited.value.code == 2
    assert "--threads: expected a whole number of threads, 1 or more, not '0'" in capsys.readouterr().err


def test_a_run_records_its_thread_policy(tiny_suite, tmp_path, monkeypatch, restore_threads):
    from harness.core.files import read_json

    monkeypatch.setenv(THREADS_ENV, "1")
    assert main(["run", str(tiny_suite), "--out", str(tmp_path / "run"), "--only", "zero-shot", "--threads", "2"]) == 0
    manifest = read_json(tmp_path / "run" / "manifest.json")
    threads = manifest["threads"]
    assert (threads["threads"], threads["source"]) == (2, "--threads")  # the option wins over the environment
    assert threads["available_cpus"] >= 1 and "load_1min" in threads and isinstance(threads["busy"], bool)
    assert threads["others_cpu_use"] is None or threads["others_cpu_use"] >= 0.0
    assert torch.get_num_threads() == 2
    # The allocator and heap setting beside it (core/allocator.py, core/heap.py): pytest's process is not
    # re-executed onto jemalloc, so glibc with the small heap's threshold unless switched off.
    assert manifest["allocator"]["name"] == ("jemalloc" if on_jemalloc() else "glibc")
    if manifest["allocator"]["name"] == "glibc" and platform.libc_ver()[0] == "glibc":
        expected = None if os.environ.get("BENCH_SMALL_HEAP") == "0" else {"mmap_threshold_bytes": 1024 * 1024}
        assert manifest["heap"] == expected
    # The report's provenance table shows both, beside the stage times.
    html = (tmp_path / "run" / "report.html").read_text()
    assert (
        "<th>threads</th><td>2 (--threads;" in html and "load average" in html and "<th>stage peak memory</th>" in html
    )


def test_bench_asks_openmp_for_a_short_spin_unless_the_user_chose_how_threads_wait():
    env = {}
    short_spin(env)
    assert env == {"GOMP_SPINCOUNT": "10000"}
    assert choose_threads(env=env, affinity=lambda: 2, quota=lambda: None, load=lambda: 0.1).openmp_wait == (
        "GOMP_SPINCOUNT=10000"
    )
    for chosen in ({"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "infinite"}, {"BENCH_SHORT_SPIN": "0"}):
        env = dict(chosen)
        short_spin(env)
        assert env == chosen  # the user's choice (or opt-out) stands
    assert choose_threads(env={}, affinity=lambda: 2, quota=lambda: None, load=lambda: 0.1).openmp_wait == (
        "OpenMP's default"
    )


def test_the_command_line_loads_without_torch_so_the_spin_is_set_before_openmp_starts():
    """libgomp reads GOMP_SPINCOUNT once, when torch loads: ``bench`` must set it before anything imports torch."""
    import subprocess
    import sys

    check = "import sys, harness.cli; assert 'torch' not in sys.modules, 'torch loaded with the CLI'"
    assert subprocess.run([sys.executable, "-c", check], capture_output=True, text=True).returncode == 0
