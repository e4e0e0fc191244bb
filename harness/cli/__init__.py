"""The `bench` command line: parsing, the console and exit codes. Nothing in bench imports it.

The console script is ``bench_command`` (pyproject.toml), not ``main``: ``main`` is the submodule with the
parser, and a package function of the same name would be shadowed by it once the submodule is imported."""

import sys


def bench_command() -> int:
    """The ``bench`` command: first the process settings that must precede torch (core/startup.py: jemalloc,
    OpenMP's short spin, oneDNN's bounded caches), then the command line."""
    from harness.core.startup import start_like_bench

    start_like_bench(sys.argv)  # may re-execute this command once, with jemalloc preloaded
    from harness.cli.main import main as command_line

    return command_line()


__all__ = ["bench_command"]
