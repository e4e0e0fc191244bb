"""The suite: YAML on disk -> a validated, grid-expanded, hashed ``Suite``."""

from harness.spec.load import load_suite
from harness.spec.schema import Suite

__all__ = ["Suite", "load_suite"]
