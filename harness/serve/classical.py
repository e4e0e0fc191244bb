"""Classical packages (tfidf, embedding_classifier from `bench package`) behind the same chat endpoint.

A classical package answers a chat request the way its variant answered in the
run: it reads the text of the last user message (a single-turn request reads
what the run read, the item's user turn) and returns the task's answer format
with the predicted label filled in. No language model runs and no tokens are
counted. Only an embedding classifier fitted on the base model's hidden states
needs the base model loaded; tfidf and MiniLM packages need none.

The folder is loaded with ``harness.classical.load``: arrays and JSON only, and
a folder holding any pickle-like file is refused, naming it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.classical.model import SETTINGS_FILE
from harness.core.errors import BenchError
from harness.core.files import read_json
from harness.serve.completion import Completion

PACKAGE_METADATA = "bench_package.json"  # written by harness/package/build.py


def is_classical(path: str | Path) -> bool:
    """A folder holding a saved classical model (a classical package, or a run's variants/<name>/classical)."""
    return (Path(path) / SETTINGS_FILE).is_file()


def needs_base(path: str | Path) -> bool:
    """Only an embedding classifier on the base model's hidden states needs the base model to answer."""
    encoder = read_json(Path(path) / SETTINGS_FILE).get("encoder") or {}
    return encoder.get("name") == "base_model"


def base_of(path: str | Path) -> str | None:
    """The base model a classical package needs, or None."""
    package = Path(path) / PACKAGE_METADATA
    if not needs_base(path):
        return None
    return read_json(package)["base_model"]["name"] if package.is_file() else None


@dataclass
class ClassicalServed:
    name: str
    path: Path
    model: Any  # harness.classical.ClassicalModel
    answer_format: str  # the task's, from the package; "{label}" without one
    package: dict | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def complete(self, messages: list[dict]) -> Completion:
        users = [m["content"] for m in messages if m["role"] == "user"]
        if not users:
            raise BenchError("a classical model reads the last user message, and the request has none")
        with self._lock:  # a base-model encoder is shared state; tfidf is cheap enough not to care
            label = self.model.predict([users[-1]]).labels[0]
        return Completion(
            text=self.answer_format.replace("{label}", label),
            finish_reason="stop",
            prompt_tokens=0,
            completion_tokens=0,
        )


def load_classical(name: str, path: str | Path, base=None) -> ClassicalServed:
    """Load a classical package folder; ``base`` (a loaded base model) only for a base-model encoder."""
    from harness.classical import load, make_encoder

    folder = Path(path)
    encoder = None
    if needs_base(folder):
        if base is None:
            raise BenchError(
                f"'{name}' ({folder}) embeds texts with the base model, and no base model is loaded",
                hint="pass --base MODEL, the model the package names in bench_package.json",
            )
        encoder = make_encoder("base_model", model=base.model, tokenizer=base.tokenizer)
    model = load(folder, encoder=encoder)  # refuses a folder holding a pickle-like file
    package = read_json(folder / PACKAGE_METADATA) if (folder / PACKAGE_METADATA).is_file() else None
    answer_format = ((package or {}).get("prompt") or {}).get("answer_format") or "{label}"
    return ClassicalServed(name=name, path=folder, model=model, answer_format=answer_format, package=package)
