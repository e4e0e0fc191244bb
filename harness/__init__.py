"""bench: evaluation-first benchmarking of fine-tuned language models."""

__version__ = "0.1.0"
