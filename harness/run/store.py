"""The variant store: finished variants found again by content, so a rerun resumes instead of redoing.

A variant's key hashes everything that decides its result: its resolved config
and training, the task, the data fingerprints, the base model, its inference
settings (the suite's with its own overrides) and the suite's probe settings,
its own system prompt when it has one, the suite seed, bench's version, and,
for retrieval from a file or folder, the corpus contents. The key also
holds a fingerprint of the base model's files and of bench's own source code.

The store lives outside the repository (``default_store_root``: ``BENCH_STORE``,
else ``~/.cache/bench/store``; ``bench run --store DIR``), and every entry is
sealed with an HMAC under a per-user key kept outside it (``store_secret``), so
results are reused only if bench itself computed them: an entry planted in the
store, or changed after saving, is recomputed. A lock per key keeps two runs
sharing a store from writing one entry at once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from harness import __version__
from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl, write_json, write_jsonl
from harness.core.names import inside
from harness.model.fingerprint import weights_fingerprint
from harness.suite.schema import Suite
from harness.variants.base import Variant

STORE_ENV, KEY_ENV, KEY_FILE_ENV = "BENCH_STORE", "BENCH_STORE_KEY", "BENCH_STORE_KEY_FILE"
SEAL, ATTEMPT = "seal.json", "attempt.json"
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def variant_key(spec: Suite, splits_sha256: dict[str, str], variant: Variant) -> str:
    payload = {
        "variant": variant.config.key_fields(),
        "training": variant.training_spec().model_dump(mode="json") if variant.trains else None,
        "task": spec.task.model_dump(mode="json"),
        "data": dict(sorted(splits_sha256.items())),
        "base_model": spec.base_model.model_dump(mode="json"),
        "inference": variant.inference_spec().model_dump(mode="json"),
        "probes": spec.probes.model_dump(mode="json") if variant.trains else None,
        "seed": spec.seed,
        # The model's files and bench's own code, not only their names: new weights or a fixed
        # bench must not reuse results computed before.
        "model_files": weights_fingerprint(variant.env.base.source),
        "code": {"version": __version__, "sha256": code_fingerprint()},
    }
    if getattr(spec, "abstain", None) is not None:
        # Abstention predicts the validation items too; left out while unset, so earlier keys stay as they were.
        payload["abstain"] = spec.abstain.model_dump(mode="json")
    source, _ = variant.system_prompt_source()
    if source != "suite":
        # The text, not just its name in prompts:: editing a named prompt must not reuse the old prompt's results.
        payload["system_prompt"] = variant.prompt_template().system_prompt
    retrieval = variant.retrieval
    if retrieval is not None and variant.retrieval_spec().corpus != "train":
        # The config names a corpus file or folder; its contents decide what the variant retrieves.
        payload["corpus"] = retrieval.source_corpus.fingerprint
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


class UntrustedEntry(Exception):
    """A finished entry that bench cannot prove it wrote itself; it is recomputed, never used."""


class VariantStore:
    """Finished variants by content key, each entry sealed.

    An entry is finished once its result.json exists, and trusted only if its
    seal verifies: ``seal.json`` lists the sha256 of every file in the entry and
    carries an HMAC-SHA256 over that list and the key, made with this user's store
    key (``store_secret``). Files planted by someone without the key, or changed
    after saving, fail the check.
    """

    def __init__(self, root: Path, *, secret: bytes | None = None):
        self.root = Path(root).expanduser().absolute()
        self._secret = secret  # read (or created) on first use, so that merely opening a store writes nothing

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = store_secret()
        return self._secret

    def entry(self, key: str) -> Path:
        if not KEY_PATTERN.match(key):  # keys are hex digests; anything else could climb out of the store
            raise BenchError(f"not a store key: {key!r}")
        return self.root / key

    @contextmanager
    def lock(self, key: str, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold ``key`` for this process: two runs sharing a store never write one entry at once.
        The second waits, then finds the entry finished and reuses it."""
        from filelock import FileLock, Timeout

        self.entry(key)  # checks the key
        folder = self.root / ".locks"  # beside the entries: fresh() empties an entry's folder
        folder.mkdir(parents=True, exist_ok=True)
        held = FileLock(str(folder / f"{key}.lock"))
        try:
            held.acquire(timeout=0)
        except Timeout:
            if on_wait is not None:
                on_wait()
            held.acquire()
        try:
            yield
        finally:
            held.release()

    def finished(self, key: str) -> dict | None:
        """The stored record, or None if the entry has not finished. Raises UntrustedEntry if its seal fails."""
        folder = self.entry(key)
        result = folder / "result.json"
        if not result.exists():
            return None
        if self.unsealed_attempt(key):
            return None
        self.verify(key)
        record = read_json(result)
        if not isinstance(record, dict) or record.get("key") != key:
            raise UntrustedEntry("its result.json names another key")
        return record

    def unsealed_attempt(self, key: str) -> bool:
        """An attempt this store began and did not seal: killed before it finished, even if its
        result was already written (the seal comes last), so it is redone, not reported as foreign."""
        return not (self.entry(key) / SEAL).exists() and self._attempt_verifies(key)

    def fresh(self, key: str) -> Path:
        """A work folder for ``key``. A killed attempt's leftovers are removed, except
        training checkpoints of an attempt this store began (its ``attempt.json`` verifies),
        from which training resumes; checkpoints of unknown origin are removed too."""
        folder = self.entry(key)
        if folder.is_symlink():
            folder.unlink()  # the link only: emptying it would delete whatever it points at
        folder.mkdir(parents=True, exist_ok=True)
        keep = self._attempt_verifies(key)
        for child in folder.iterdir():
            if child.name == "trainer" and keep and not child.is_symlink():
                continue
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        write_json(folder / ATTEMPT, {"key": key, "hmac": self._sign({"key": key, "attempt": True})})
        return folder

    def save(self, key: str, record: dict) -> None:
        folder = self.entry(key)
        write_jsonl(folder / "samples.jsonl", record.pop("samples"))
        write_json(folder / "result.json", {**record, "key": key})
        shutil.rmtree(folder / "trainer", ignore_errors=True)  # checkpoints are only for resuming
        self.seal(key)

    def seal(self, key: str) -> None:
        """Mark a finished entry as this store's: the sha256 of each of its files, signed. Written last."""
        folder = self.entry(key)
        files = _entry_files(folder)
        write_json(folder / SEAL, {"key": key, "files": files, "hmac": self._sign({"key": key, "files": files})})
        # After the seal: a kill between the two leaves an entry that is sealed or still an attempt, never neither.
        (folder / ATTEMPT).unlink(missing_ok=True)

    def verify(self, key: str) -> None:
        """Raise UntrustedEntry, saying why, unless the entry's seal is this store's and every file matches it."""
        folder = self.entry(key)
        if folder.is_symlink():
            raise UntrustedEntry("the entry is a symbolic link (bench never stores one)")
        seal_file = folder / SEAL
        if not seal_file.is_file() or seal_file.is_symlink():
            raise UntrustedEntry(f"it has no {SEAL}: it was not written by bench with a store key")
        try:
            seal = read_json(seal_file)
            files, mac = seal["files"], seal["hmac"]
            if not isinstance(files, dict) or not isinstance(mac, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise UntrustedEntry(f"its {SEAL} is damaged") from None
        if not hmac.compare_digest(mac, self._sign({"key": key, "files": files})):
            raise UntrustedEntry(
                f"its {SEAL} was not signed with this store's key ({key_source()}): planted, copied, or altered"
            )
        present = _entry_files(folder)
        for name in sorted(set(files) | set(present)):
            if name not in present:
                raise UntrustedEntry(f"{name} is missing")
            if name not in files:
                raise UntrustedEntry(f"{name} was added after it was stored")
            if present[name] != files[name]:
                raise UntrustedEntry(f"{name} changed after it was stored")

    def samples(self, key: str) -> list[dict]:
        path = self.entry(key) / "samples.jsonl"
        return read_jsonl(path) if path.exists() else []

    def link_into(self, key: str, target: Path) -> None:
        """Give a run folder its own view of a stored variant: hard links, a copy where they fail.

        ``target`` is built from a variant's name (``<run>/variants/<name>``); it is checked to be a
        child of its folder, symlinks resolved, before anything there is removed or written.
        """
        target = inside(target.parent, target.name)
        if target.is_symlink():
            target.unlink()  # a link is replaced, never followed into what it points at
        elif target.exists():
            shutil.rmtree(target)

        def link(src, dst):
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

        ignore = shutil.ignore_patterns("trainer", SEAL, ATTEMPT)
        shutil.copytree(self.entry(key), target, copy_function=link, ignore=ignore)

    def _sign(self, payload: dict) -> str:
        message = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def _attempt_verifies(self, key: str) -> bool:
        try:
            attempt = read_json(self.entry(key) / ATTEMPT)
            return hmac.compare_digest(str(attempt["hmac"]), self._sign({"key": key, "attempt": True}))
        except (OSError, ValueError, KeyError, TypeError):
            return False


def _entry_files(folder: Path) -> dict[str, str]:
    """sha256 of every file of an entry, by path inside it; the seal, an attempt marker and checkpoints aside."""
    files = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name in (SEAL, ATTEMPT) or name == "trainer" or name.startswith("trainer/"):
            continue
        if path.is_symlink():
            raise UntrustedEntry(f"{name} is a symbolic link (bench never stores one)")
        if path.is_file():
            files[name] = _sha256_file(path)
    return files


def _sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            sha.update(block)
    return sha.hexdigest()


# ----------------------------------------------------------------------------- where the store and its key live
def default_store_root() -> Path:
    """``BENCH_STORE``, else ``$XDG_CACHE_HOME/bench/store`` (``~/.cache/bench/store``): outside any
    repository, so a pull request cannot commit store entries into it."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "bench" / "store"


def key_file() -> Path:
    """``BENCH_STORE_KEY_FILE``, else ``$XDG_CONFIG_HOME/bench/store.key`` (``~/.config/bench/store.key``)."""
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "bench" / "store.key"


def key_source() -> str:
    return f"${KEY_ENV}" if os.environ.get(KEY_ENV) else str(key_file())


def store_secret() -> bytes:
    """The HMAC key of this user's store: ``BENCH_STORE_KEY`` (for CI, from a secret), else the key file,
    created with 32 random bytes and mode 0600 on first use."""
    given = os.environ.get(KEY_ENV)
    if given:
        if len(given) < 16:
            raise BenchError(
                f"${KEY_ENV} is {len(given)} characters; a store key needs at least 16",
                hint='generate one: python -c "import secrets; print(secrets.token_hex(32))"',
            )
        return given.encode()
    path = key_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as exc:
        raise BenchError(
            f"cannot create the store key {path}: {exc.strerror or exc}",
            hint=f"set {KEY_FILE_ENV} to a writable place, or {KEY_ENV} to a secret",
        ) from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"cannot read the store key {path}: {exc}", hint="remove it; bench makes a new one") from None
    if mode & 0o077:
        raise BenchError(
            f"the store key {path} can be read or changed by other users (mode {stat.S_IMODE(mode):04o})",
            hint=f"chmod 600 {path}",
        )
    if len(text) < 16:
        raise BenchError(
            f"the store key {path} is too short ({len(text)} characters)",
            hint="remove it; bench makes a new one (stored results are then recomputed)",
        )
    return text.encode()


@functools.cache
def code_fingerprint() -> str:
    """sha256 over bench's own source (harness/**/*.py), once per process: results computed before a
    fix are not reused after it, even when the version string did not change."""
    package = Path(__file__).resolve().parents[1]
    sha = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        sha.update(path.relative_to(package).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()
