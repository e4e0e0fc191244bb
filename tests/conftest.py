"""Shared fixtures: a tiny random model and a tiny suite, both built locally and offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

LABELS = ["alpha", "beta", "gamma"]
WORDS = {"alpha": "apples", "beta": "bricks", "gamma": "clouds"}


def _store_in(folder: Path, *, key: bool = False):
    """Point the variant store (and, once per session, its key) at ``folder`` while the context lasts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_STORE", str(folder / ".bench-store"))
        if key:
            patch.setenv("BENCH_STORE_KEY_FILE", str(folder / "store.key"))
            patch.delenv("BENCH_STORE_KEY", raising=False)
        yield


# Tests never touch ~/.cache/bench/store or ~/.config/bench: each test (and each module- or
# session-wide fixture, which starts before a test's own fixtures) has its own store.
@pytest.fixture(scope="session", autouse=True)
def _session_store(tmp_path_factory):
    yield from _store_in(tmp_path_factory.mktemp("session-store"), key=True)


@pytest.fixture(scope="module", autouse=True)
def _module_store(tmp_path_factory):
    yield from _store_in(tmp_path_factory.mktemp("module-store"))


@pytest.fixture(autouse=True)
def _test_store(tmp_path):
    yield from _store_in(tmp_path)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """Built once per session outside every suite's folder, so it is granted as a user would grant it:
    ``BENCH_ALLOW_PATHS`` (tests/test_security.py removes the grant to check the fence)."""
    from tiny_model import build_tiny_model

    folder = build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
    granted = [p for p in os.environ.get("BENCH_ALLOW_PATHS", "").split(os.pathsep) if p]
    os.environ["BENCH_ALLOW_PATHS"] = os.pathsep.join([*granted, str(folder)])
    return folder


def make_items(prefix: str, count: int, start: int = 0) -> list[dict]:
    rows = []
    for i in range(start, start + count):
        label = LABELS[i % len(LABELS)]
        text = f"Note {i}: a short text about {WORDS[label]} number {i * 7 % 13}."
        rows.append(
            {
                "id": f"{prefix}-{i}",
                "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": f"kind: {label}"}],
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


TINY_SUITE = """\
schema_version: 1
name: tiny
seed: 7
task:
  type: classification
  labels: [alpha, beta, gamma]
  answer_format: "kind: {{label}}"
  system_prompt: "Classify the note. Answer exactly 'kind: <label>' with label alpha, beta or gamma."
  data:
    train: data/train.jsonl
    validation: data/validation.jsonl
    test: data/test.jsonl
base_model:
  name: {model}
training:
  epochs: 1
  batch_size: 4
  learning_rate: 0.001
  max_length: 128
  eval_every: 3
inference:
  batch_size: 8
  max_new_tokens: 6
variants:
  - name: zero-shot
    kind: zero_shot
  - name: few-shot
    kind: few_shot
    shots: 3
  - name: lora
    kind: lora
    r: 4
    alpha: 8
"""


@pytest.fixture
def tiny_suite(tmp_path, tiny_model_dir) -> Path:
    """A three-label suite on the tiny model: 12 train, 6 validation, 9 test items."""
    write_jsonl(tmp_path / "data" / "train.jsonl", make_items("train", 12))
    write_jsonl(tmp_path / "data" / "validation.jsonl", make_items("val", 6, start=100))
    write_jsonl(tmp_path / "data" / "test.jsonl", make_items("test", 9, start=200))
    suite = tmp_path / "tiny.yaml"
    suite.write_text(TINY_SUITE.format(model=tiny_model_dir))
    return suite
