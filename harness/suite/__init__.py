"""The suite: YAML on disk -> a validated, grid-expanded, hashed ``Suite``."""

from harness.suite.load import load_suite
from harness.suite.schema import Suite

__all__ = ["Suite", "load_suite"]
