"""jemalloc for the bench command (harness/core/allocator.py): re-executed onto it where installed, else glibc."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.core.allocator import MALLOC_CONF, jemalloc_library, use_jemalloc

LIBRARY = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def calls_to_execv(env: dict, library: str | None = LIBRARY) -> list:
    calls = []
    use_jemalloc(["/venv/bin/bench", "run", "suite.yaml"], env=env, execv=lambda *a: calls.append(a), library=library)
    return calls


def test_the_command_is_run_again_with_jemalloc_preloaded_and_bench_settings():
    env = {"LD_PRELOAD": "/opt/other.so"}
    calls = calls_to_execv(env)
    assert calls == [(sys.executable, [sys.executable, "/venv/bin/bench", "run", "suite.yaml"])]
    assert env["LD_PRELOAD"] == f"{LIBRARY}:/opt/other.so"  # what the user preloaded stays
    assert env["MALLOC_CONF"] == MALLOC_CONF


def test_a_malloc_conf_of_the_users_own_is_kept():
    env = {"MALLOC_CONF": "narenas:1"}
    assert len(calls_to_execv(env)) == 1 and env["MALLOC_CONF"] == "narenas:1"


@pytest.mark.parametrize(
    "env, library",
    [
        ({"LD_PRELOAD": LIBRARY}, LIBRARY),  # already on it: the re-executed process itself
        ({"BENCH_ALLOCATOR": "glibc"}, LIBRARY),  # the user's choice
        ({}, None),  # not installed
    ],
)
def test_no_second_start_when_on_it_already_switched_off_or_not_installed(env, library, monkeypatch):
    monkeypatch.setattr("harness.core.allocator.jemalloc_library", lambda: library)
    before = dict(env)
    assert calls_to_execv(env, library=None) == [] and env == before


def test_a_failed_start_goes_on_on_glibc():
    def fails(*_):
        raise OSError("no such file")

    env: dict = {}
    use_jemalloc(["bench"], env=env, execv=fails, library=LIBRARY)
    assert env == {}  # neither the preload nor bench's MALLOC_CONF is left for what this process starts
    users = {"LD_PRELOAD": "/opt/other.so", "MALLOC_CONF": "narenas:1"}
    env = dict(users)
    use_jemalloc(["bench"], env=env, execv=fails, library=LIBRARY)
    assert env == users


# The real thing, where jemalloc is installed (setup.sh installs it on Debian and Ubuntu): a fresh process
# that calls use_jemalloc as the bench command does is running on jemalloc afterwards, and says so.
PROBE = """
import json, sys
from harness.core.allocator import use_jemalloc, allocator_record
use_jemalloc(sys.argv)
print(json.dumps(allocator_record()))
"""


@pytest.mark.skipif(jemalloc_library() is None, reason="jemalloc is not installed (setup.sh installs libjemalloc2)")
def test_a_process_is_re_executed_onto_jemalloc(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "MALLOC_CONF", "BENCH_ALLOCATOR")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)

    def record(**extra) -> dict:
        done = subprocess.run(
            [sys.executable, str(probe)], env={**env, **extra}, capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout)

    assert record() == {"name": "jemalloc", "malloc_conf": MALLOC_CONF}
    assert record(BENCH_ALLOCATOR="glibc") == {"name": "glibc"}


# Freed pages kept inside a loop, returned between its iterations (issue 22: page faults were 15% of the legal
# suite's CPU time). The probe runs on jemalloc told to return freed pages at once (dirty_decay_ms:0), so
# each figure can only come out as asserted if bench changed the decay and purged where it says.
KEPT_PROBE = """
import json, psutil
from harness.core.allocator import freed_pages_kept, returning_pages_between

def rss():
    return psutil.Process().memory_info().rss / 2**20

def churn():
    block = b"\\x01" * (512 << 20)  # every page written: resident
    del block

seen = {"start": rss()}
with freed_pages_kept():
    churn()
    seen["kept"] = rss()
seen["after"] = rss()
churn()
seen["decay_back"] = rss()
for item in returning_pages_between([1, 2]):
    seen[f"before_{item}"] = rss()
    churn()
    seen[f"in_{item}"] = rss()
seen["between"] = rss()
print(json.dumps(seen))
"""


@pytest.mark.skipif(jemalloc_library() is None, reason="jemalloc is not installed (setup.sh installs libjemalloc2)")
def test_freed_pages_are_kept_inside_a_loop_and_returned_after_it(tmp_path):
    probe = tmp_path / "kept.py"
    probe.write_text(KEPT_PROBE)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "MALLOC_CONF", "BENCH_ALLOCATOR")}
    env.update(
        PYTHONPATH=os.pathsep.join(sys.path),
        LD_PRELOAD=jemalloc_library(),
        MALLOC_CONF="oversize_threshold:0,background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0",
    )
    done = subprocess.run([sys.executable, str(probe)], env=env, capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    start = seen["start"]
    assert seen["kept"] - start > 400  # freed inside: kept for reuse
    assert seen["after"] - start < 100  # leaving returns them
    assert seen["decay_back"] - start < 100  # and puts the decay back (0 here: returned at once)
    assert seen["in_1"] - start > 400 and seen["in_2"] - start > 400
    assert seen["before_2"] - start < 100  # what item 1 freed was returned before item 2 began
    assert seen["between"] - start < 100


def test_off_jemalloc_nothing_is_purged():
    from harness.core.allocator import freed_pages_kept, on_jemalloc, return_freed_pages

    if on_jemalloc():
        pytest.skip("this test process runs on jemalloc")
    with freed_pages_kept():
        assert return_freed_pages() is False
