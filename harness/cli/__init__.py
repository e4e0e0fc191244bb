"""The `bench` command line: parsing, the console and exit codes. Nothing in bench imports it."""

import sys


def main() -> int:
    """The ``bench`` command: first onto jemalloc where installed (core/allocator.py), then the command line."""
    from harness.core.allocator import use_jemalloc

    use_jemalloc(sys.argv)  # re-executes this command once, with jemalloc preloaded; returns if it does not
    from harness.cli.main import main as command_line

    return command_line()


__all__ = ["main"]
