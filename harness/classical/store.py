"""Saving and loading classical classifiers as arrays and JSON, never pickle.

A saved model is a folder of two files: ``model.safetensors`` (idf vectors,
scaler, coefficients, intercepts: plain float64 arrays) and ``classical.json``
(kind, labels, vocabularies as term -> column, vectorizer settings, encoder
description, chosen hyperparameters, the fit record, the format version).
Unpickling runs whatever code the file names, so a model folder that came from
elsewhere must be data only: ``load`` refuses a folder holding any pickle-like
file rather than risk a tool (or a person) opening it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from harness.classical.embedding import EmbeddingClassifier
from harness.classical.encoders import Encoder
from harness.classical.model import (
    FORMAT,
    FORMAT_VERSION,
    KINDS,
    SETTINGS_FILE,
    WEIGHTS_FILE,
    ClassicalModel,
    FitRecord,
)
from harness.classical.tfidf import TfidfClassifier
from harness.core.errors import BenchError
from harness.core.files import shared_file_mode

PICKLE_LIKE = (".pkl", ".pickle", ".joblib", ".skops", ".bin", ".pt")


def save(model: ClassicalModel, folder: Path | str) -> Path:
    """Write the model into ``folder`` (created if needed); each file appears whole or not at all."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in model.files().items():  # the weights first: classical.json last marks a complete save
        _atomic_write_bytes(folder / name, data)
    return folder


def load(folder: Path | str, *, encoder: Encoder | None = None) -> ClassicalModel:
    """The model saved in ``folder``. An embedding classifier needs its encoder passed, unless it is ``minilm``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BenchError(f"no saved classical model at {folder}: not a folder")
    refuse_pickles(folder)
    for name in (SETTINGS_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise BenchError(f"{folder / name} is missing", hint="save the model with harness.classical.save")
    settings = _read_settings(folder / SETTINGS_FILE)
    arrays = _read_arrays(folder / WEIGHTS_FILE)
    labels = settings["labels"]
    try:
        if settings["kind"] == "tfidf_logreg":
            classifier = TfidfClassifier.from_stored(labels, settings, arrays)
        else:
            classifier = EmbeddingClassifier.from_stored(labels, settings, arrays, encoder)
        unknown = sorted(set(classifier.head.classes) - set(labels))
    except KeyError as exc:
        raise BenchError(
            f"{folder} lacks {exc} in {SETTINGS_FILE} or {WEIGHTS_FILE}",
            hint="the saved model is damaged or from another tool; fit and save it again",
        ) from None
    if unknown:
        raise BenchError(f"{folder / SETTINGS_FILE}: trained classes {unknown} are not among the labels {labels}")
    return ClassicalModel(settings["kind"], labels, classifier, FitRecord.from_dict(settings.get("fit", {})))


def refuse_pickles(folder: Path) -> None:
    """Raise on the first pickle-like file anywhere under ``folder``, naming it."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name.lower().endswith(PICKLE_LIKE):
            raise BenchError(
                f"refusing to load {folder}: it holds {path.relative_to(folder)}, a pickle-like file",
                hint=f"bench loads classical models only from {WEIGHTS_FILE} and {SETTINGS_FILE}; "
                "remove the file if you trust the folder, or save the model again",
            )


def _read_settings(path: Path) -> dict:
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchError(f"cannot read {path}: {exc}") from None
    if not isinstance(settings, dict) or settings.get("format") != FORMAT:
        raise BenchError(f'{path} is not a bench classical model (no "format": "{FORMAT}")')
    version = settings.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BenchError(
            f"{path} has format_version {version!r}; this bench reads up to {FORMAT_VERSION}",
            hint="upgrade bench, or fit and save the model again with this one",
        )
    if settings.get("kind") not in KINDS:
        raise BenchError(f"{path}: unknown kind {settings.get('kind')!r}", hint=f"one of: {', '.join(KINDS)}")
    return settings


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise BenchError(
            f"cannot read {path}: {exc}", hint="the file is damaged; fit and save the model again"
        ) from None


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), shared_file_mode())  # mkstemp made it 0600
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise BenchError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="check that the folder is writable and the disk has space",
        ) from None
