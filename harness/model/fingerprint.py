"""What a base model's files are, as a hash: the variant store keys results by it.

A model named by a folder (or an alias, which is a folder in the cache) is
fingerprinted by the sha256 of every file at the top of that folder (weights,
config, tokenizer, any code): replacing ``model.safetensors`` changes the
fingerprint, so results computed on the old weights are not reused.

Hashing gigabytes on every run would be slow, so each file's hash is cached by
its identity on disk: path, size, mtime, ctime and inode. Rewriting a file
changes its ctime (which no ordinary tool can set back), so a cached hash is
only used for the very file it was computed from. The cache is kept in memory
for the process and, when given a cache file, on disk (a JSON file bench owns).
A hub id that is not in the local Hugging Face cache is fingerprinted by its
name only (nothing to hash yet), which the key says.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from harness.core.errors import BenchError
from harness.core.files import atomic_write_text

_MEMORY: dict[str, tuple[tuple, str]] = {}  # path -> (identity, sha256)
_LOCK = threading.Lock()


def weights_fingerprint(source: str, *, cache_file: Path | None = None) -> str:
    """One sha256 over (name, sha256) of every top-level file of the model folder ``source``."""
    folder = _local_folder(source)
    if folder is None:
        return "name:" + source  # a hub id not downloaded yet, or no model at all (tests without weights)
    cache = _read_cache(cache_file)
    files = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue  # hidden files (.cache, .gitattributes) and subfolders do not decide what loads
        files[path.name] = _file_sha256(path.resolve(), cache)
    if cache_file is not None and cache is not None:
        _write_cache(cache_file, cache)
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def _local_folder(source: str) -> Path | None:
    if not source:
        return None
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    try:  # a hub id: its snapshot folder in the Hugging Face cache, if it was downloaded
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(source, "config.json")
    except Exception:  # not a valid repo id, or no huggingface_hub: nothing local to hash
        return None
    return Path(found).parent if isinstance(found, str) else None


def _identity(path: Path) -> tuple:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _file_sha256(path: Path, cache: dict | None) -> str:
    identity = _identity(path)
    key = str(path)
    with _LOCK:
        known = _MEMORY.get(key)
    if known and known[0] == identity:
        return known[1]
    stored = (cache or {}).get(key)
    if stored and tuple(stored.get("identity", ())) == identity:
        digest = stored["sha256"]
    else:
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                sha.update(block)
        digest = sha.hexdigest()
    with _LOCK:
        _MEMORY[key] = (identity, digest)
    if cache is not None:
        cache[key] = {"identity": list(identity), "sha256": digest}
    return digest


def _read_cache(cache_file: Path | None) -> dict | None:
    if cache_file is None:
        return None
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # absent or damaged: start again, it is only a cache
    return data if isinstance(data, dict) else {}


def _write_cache(cache_file: Path, cache: dict) -> None:
    try:
        atomic_write_text(cache_file, json.dumps(cache, sort_keys=True))
    except BenchError:
        pass  # a cache that cannot be written costs time on the next run, never a wrong result
