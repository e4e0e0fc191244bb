"""Metrics over many scored items. Reading one output is ``harness.tasks``' job."""
