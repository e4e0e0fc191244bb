"""Where an unexpected exception's traceback goes: the run folder once there is one, else a temporary file.

A bug must not look like bad input (exit 2) or a regression (exit 1): the CLI
prints one line, exits 70, and points at this log. The recipe notes the run
folder as soon as it exists, so a crash mid-run leaves its traceback beside the
manifest it interrupted.
"""

from __future__ import annotations

import tempfile
import traceback
from datetime import datetime
from pathlib import Path

CRASH_LOG_NAME = "crash.log"
_run_folder: Path | None = None  # the folder of the run in progress, if any (one run per process)


def note_run_folder(folder: Path | None) -> None:
    global _run_folder
    _run_folder = folder


def write_crash_log(exc: BaseException, command: list[str]) -> Path:
    """The full traceback, with the command and the time; returns where it went."""
    text = f"bench {' '.join(command)}\n{datetime.now().isoformat(timespec='seconds')}\n\n" + "".join(
        traceback.format_exception(exc)
    )
    if _run_folder is not None and _run_folder.is_dir():
        path = _run_folder / CRASH_LOG_NAME
        try:
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            pass  # an unwritable run folder: fall back to a temporary file
    handle = tempfile.NamedTemporaryFile("w", prefix="bench-crash-", suffix=".log", delete=False, encoding="utf-8")
    with handle:
        handle.write(text)
    return Path(handle.name)
