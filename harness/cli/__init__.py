"""The `bench` command line: parsing, the console and exit codes. Nothing in bench imports it."""

from harness.cli.main import main

__all__ = ["main"]
