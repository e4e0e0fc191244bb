"""What the person running bench has allowed: the one source of trust, never the suite itself.

A suite, its data and anything next to it may come from a pull request that CI
runs. So the suite may *ask* for remote code or for files outside its folder,
but only the command line (``--trust-remote-code``, ``--allow-path DIR``) or the
environment (``BENCH_TRUST_REMOTE_CODE=1``, ``BENCH_ALLOW_PATHS=dir1:dir2``) can
grant it. See docs/security.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

TRUST_REMOTE_CODE_ENV = "BENCH_TRUST_REMOTE_CODE"
ALLOW_PATHS_ENV = "BENCH_ALLOW_PATHS"
TRUST_REMOTE_CODE_FLAG = f"--trust-remote-code (or {TRUST_REMOTE_CODE_ENV}=1)"
ALLOW_PATH_FLAG = f"--allow-path DIR (or {ALLOW_PATHS_ENV}=DIR)"


@dataclass(frozen=True)
class Trust:
    """Granted by whoever runs bench: remote code on or off, and folders outside the suite's own that may be read."""

    remote_code: bool = False
    allowed_paths: tuple[Path, ...] = ()

    @classmethod
    def granted(cls, *, remote_code: bool = False, allow_paths: Iterable[str | Path] = ()) -> "Trust":
        """The command line's grants joined with the environment's (either one grants)."""
        env_paths = [p for p in os.environ.get(ALLOW_PATHS_ENV, "").split(os.pathsep) if p.strip()]
        env_code = os.environ.get(TRUST_REMOTE_CODE_ENV, "").strip().lower() in ("1", "true", "yes")
        paths = tuple(Path(p).expanduser().resolve() for p in [*allow_paths, *env_paths])
        return cls(remote_code=remote_code or env_code, allowed_paths=paths)

    def allows(self, path: Path) -> bool:
        """True when ``path`` (already resolved, symlinks followed) lies in one of the granted folders."""
        return any(path == root or path.is_relative_to(root) for root in self.allowed_paths)
