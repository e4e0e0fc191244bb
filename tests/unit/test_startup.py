"""A process started like the bench command (harness/core/startup.py) has every setting before torch loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.core.allocator import jemalloc_library

REPO = Path(__file__).resolve().parents[2]
SETTINGS = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "BENCH_SHORT_SPIN", "ONEDNN_PRIMITIVE_CACHE_CAPACITY")
SETTINGS += ("LRU_CACHE_CAPACITY", "LD_PRELOAD", "MALLOC_CONF", "BENCH_ALLOCATOR")

STARTED = """
import json, sys
from harness.core.startup import start_like_bench
start_like_bench(sys.argv)
torch_loaded = "torch" in sys.modules
import os
from harness.core.allocator import on_jemalloc
print(json.dumps({"env": {k: os.environ.get(k) for k in %r}, "jemalloc": on_jemalloc(), "torch": torch_loaded}))
"""


def test_the_settings_are_in_place_before_torch_loads(tmp_path):
    script = tmp_path / "started.py"
    script.write_text(STARTED % (SETTINGS,))
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}  # none inherited from this process
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
    started = json.loads(done.stdout.strip().splitlines()[-1])
    assert started["torch"] is False
    assert started["env"]["GOMP_SPINCOUNT"] == "10000"  # core/threads.py
    assert started["env"]["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "64"  # core/onednn.py
    assert started["env"]["LRU_CACHE_CAPACITY"] == "256"
    assert started["jemalloc"] is (jemalloc_library() is not None)  # core/allocator.py: re-executed onto it


COMMAND = """
import json, os, sys
sys.argv = ["bench", "schema"]
from harness.cli import bench_command  # the console script's entry point (pyproject.toml)
bench_command()
print(json.dumps({k: os.environ.get(k) for k in %r}))
"""


def test_the_bench_command_starts_so(tmp_path):
    """The ``bench`` entry point runs ``start_like_bench`` (in a fresh process: the settings must precede torch)."""
    script = tmp_path / "command.py"
    script.write_text(COMMAND % (SETTINGS,))
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(PYTHONPATH=str(REPO), BENCH_ALLOCATOR="glibc")  # stay in this process: its argv is not a script
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
    started = json.loads(done.stdout.strip().splitlines()[-1])
    assert started["GOMP_SPINCOUNT"] == "10000" and started["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "64"
