"""A quiet console: what the libraries say goes to a log file in the run folder, not the terminal.

bench's terminal is for bench: its progress (core/progress.py) and its summary.
The libraries under it talk on their own: transformers' FutureWarnings,
bitsandbytes' kernel notices, lm-eval's notices about the model it was given,
tqdm bars from datasets, lm-eval and the GGUF conversion. While a
``quiet_console`` session is open:

- Python warnings go through ``logging`` (``logging.captureWarnings``);
- the libraries' loggers lose their own terminal handlers and propagate to the
  root logger, whose one handler writes ``bench.log`` (kept in memory until the
  run folder is known, see ``log_to``);
- progress bars are off: tqdm's ``TQDM_DISABLE`` and the Hugging Face switches,
  as environment variables read when those libraries are imported (so the
  session opens before them), and through their APIs for any already imported;
- whatever else writes to ``sys.stdout`` or ``sys.stderr`` (a library's
  ``print``, a bar that ignores the switches) goes to the log line by line;
  bench's own rich consoles still reach the terminal (``_LinesToLog``), and
  ``library_output`` names the library where bench knows who prints (the
  probes wrap lm-eval).

With ``verbose`` (``bench -v``) the same records also go to the terminal, and
the bars stay on. Closing the session restores every setting it changed, so a
test that calls the CLI in-process leaves the process as it found it (bar the
import-time defaults tqdm read from the environment).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Iterator

LOG_NAME = "bench.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Top-level logger names of the libraries bench drives; their child loggers follow them.
LIBRARIES = (
    "transformers",
    "datasets",
    "huggingface_hub",
    "peft",
    "trl",
    "accelerate",
    "bitsandbytes",
    "lm_eval",
    "lm-eval",
    "sentence_transformers",
    "torch",
    "gguf",
    "evaluate",
    "sacrebleu",
)
# Read by those libraries when they are imported: tqdm's own defaults, the Hub's and datasets' bars.
QUIET_ENV = {"TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}
# Imported up front for commands that load models: each installs its own terminal handler on import,
# and the first warning can come from the import itself, before any later re-routing would run.
EAGER = ("transformers.utils.logging", "datasets.utils.logging", "huggingface_hub.utils.logging")


class DeferredFileHandler(logging.Handler):
    """Writes records to a file; holds them in memory until the file's place is known.

    The run folder is named only once the suite is read, and a warning can come
    before that (an import), so records wait here and are written when
    ``open`` is called.
    """

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter(FORMAT))
        self.path: Path | None = None
        self.count = 0
        self._pending: list[str] = []
        self._file: io.TextIOBase | None = None

    def open(self, path: Path) -> None:
        if self.path == path:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.acquire()
        try:
            if self._file is not None:
                self._file.close()
            self._file = open(path, "a", encoding="utf-8")
            self.path = path
            self._file.writelines(self._pending)
            self._file.flush()
            self._pending.clear()
        finally:
            self.release()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
        except Exception:
            self.handleError(record)
            return
        self.count += 1
        if self._file is None:
            self._pending.append(line)
        else:
            self._file.write(line)
            self._file.flush()

    @property
    def unsaved(self) -> bool:
        return bool(self._pending)

    def close(self) -> None:
        self.acquire()
        try:
            if self._file is not None:
                self._file.close()
                self._file = None
        finally:
            self.release()
        super().close()


class _StderrHandler(logging.StreamHandler):
    """The terminal for ``-v``: whatever ``sys.stderr`` is when a record comes (pytest swaps it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class Session:
    """One open quiet console: the log handler and what to undo on close."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.log = DeferredFileHandler()
        self._undo: list = []
        self._rerouted: set[int] = set()

    def log_to(self, path: Path) -> None:
        self.log.open(path)

    def reroute_libraries(self) -> None:
        """Send the libraries' loggers to the root logger: drop their own terminal handlers, let them propagate."""
        for name in list(logging.root.manager.loggerDict):
            if name.split(".")[0] not in LIBRARIES:
                continue
            logger = logging.getLogger(name)
            if id(logger) in self._rerouted:
                continue
            self._rerouted.add(id(logger))
            # Only plain console handlers: a file handler someone set up on purpose stays.
            console_handlers = [h for h in logger.handlers if type(h) is logging.StreamHandler]
            for handler in console_handlers:
                logger.removeHandler(handler)
            propagate = logger.propagate
            logger.propagate = True
            self._undo.append(lambda lg=logger, hs=console_handlers, p=propagate: _restore_logger(lg, hs, p))

    def _set_env(self) -> None:
        for key, value in QUIET_ENV.items():
            if key not in os.environ:  # a user's own setting wins
                os.environ[key] = value
                self._undo.append(lambda k=key: os.environ.pop(k, None))

    def _bars_off(self) -> None:
        """Libraries already imported read the environment too early: switch their bars off directly."""
        switches = (
            ("transformers.utils.logging", "is_progress_bar_enabled", "disable_progress_bar", "enable_progress_bar"),
            ("datasets.utils.tqdm", "are_progress_bars_disabled", "disable_progress_bars", "enable_progress_bars"),
            ("huggingface_hub.utils", "are_progress_bars_disabled", "disable_progress_bars", "enable_progress_bars"),
        )
        for module_name, query, off, on in switches:
            module = sys.modules.get(module_name)
            if module is None:
                continue
            enabled = getattr(module, query)()
            if query.startswith("are_"):  # "are ... disabled" reads the other way round
                enabled = not enabled
            if enabled:
                getattr(module, off)()
                self._undo.append(getattr(module, on))

    def open(self, *, libraries: bool) -> None:
        if not self.verbose:
            self._set_env()
        if libraries:
            for module_name in EAGER:
                with contextlib.suppress(ImportError):
                    importlib.import_module(module_name)
        if not self.verbose:
            self._bars_off()
        root = logging.getLogger()
        level = root.level
        root.addHandler(self.log)
        handlers: list[logging.Handler] = [self.log]
        if self.verbose:
            terminal = _StderrHandler()
            root.addHandler(terminal)
            handlers.append(terminal)
        root.setLevel(logging.INFO)  # the log keeps the libraries' notices, not only their warnings
        self._undo.append(lambda: _restore_root(handlers, level))
        if getattr(warnings.showwarning, "__module__", None) != "logging":  # not captured already (by a caller)
            logging.captureWarnings(True)
            self._undo.append(lambda: logging.captureWarnings(False))
        self.reroute_libraries()
        if not self.verbose:
            self._capture_streams()

    def _capture_streams(self) -> None:
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout = _LinesToLog(logging.getLogger("output.stdout"), logging.INFO, stdout)
        sys.stderr = _LinesToLog(logging.getLogger("output.stderr"), logging.INFO, stderr)
        captured = (sys.stdout, sys.stderr)

        def restore() -> None:
            for stream in captured:
                stream.drain()
            if sys.stdout is captured[0]:
                sys.stdout = stdout
            if sys.stderr is captured[1]:
                sys.stderr = stderr

        self._undo.append(restore)

    def close(self) -> None:
        while self._undo:
            with contextlib.suppress(Exception):
                self._undo.pop()()
        if self.log.unsaved:
            # The run stopped before naming its folder: keep the messages where they can be read, and say where.
            fd, name = tempfile.mkstemp(prefix="bench-", suffix=".log")
            os.close(fd)
            self.log.open(Path(name))
            sys.stderr.write(f"library messages: {name}\n")
        self.log.close()


def _restore_logger(logger: logging.Logger, handlers: list[logging.Handler], propagate: bool) -> None:
    for handler in handlers:
        logger.addHandler(handler)
    logger.propagate = propagate


def _restore_root(handlers: list[logging.Handler], level: int) -> None:
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


_session: Session | None = None


@contextlib.contextmanager
def quiet_console(*, verbose: bool = False, libraries: bool = False) -> Iterator[Session]:
    """Route the libraries' warnings, notices and bars to the log (and, with ``verbose``, the terminal too).

    ``libraries``: import and re-route the Hugging Face libraries now (commands that load a model).
    """
    global _session
    session = Session(verbose)
    outer, _session = _session, session
    try:
        session.open(libraries=libraries)
        yield session
    finally:
        _session = outer
        session.close()


def active() -> Session | None:
    return _session


def log_to(path: Path) -> None:
    """Write the open session's log to ``path`` (the run folder's bench.log) from now on, and what it held so far."""
    if _session is not None:
        _session.log_to(path)


def keeps_terminal_clear() -> bool:
    """True while a quiet session holds stdout and stderr (not with ``-v``)."""
    return _session is not None and not _session.verbose


def reroute_libraries() -> None:
    """Catch loggers of libraries imported since the session opened (each stage of a run calls this)."""
    if _session is not None:
        _session.reroute_libraries()


class _LinesToLog(io.TextIOBase):
    """A stream that hands each whole line written to it to a logger.

    ``rich_proxied_file`` is rich's own protocol for stand-in streams: a rich
    Console that would write here writes to the real stream instead, so bench's
    progress still reaches the terminal while a library's prints do not.
    """

    def __init__(self, logger: logging.Logger, level: int, real) -> None:
        super().__init__()
        self._logger, self._level, self._buffer = logger, level, ""
        self.rich_proxied_file = getattr(real, "rich_proxied_file", real)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def _emit(self, line: str) -> None:
        # A progress bar redraws its line after each "\r": only the last drawing is worth keeping.
        shown = next((part for part in reversed(line.split("\r")) if part.strip()), "")
        if shown.strip():
            self._logger.log(self._level, shown.rstrip())

    def flush(self) -> None:
        """Nothing to push: a line is logged when it ends (tqdm flushes after every redraw of an unfinished line)."""

    def drain(self) -> None:
        """Log what is left of an unfinished line (when the capture ends)."""
        self._emit(self._buffer)
        self._buffer = ""


@contextlib.contextmanager
def library_output(name: str) -> Iterator[None]:
    """What a library prints to stdout or stderr inside the block goes to the log as logger ``name``.

    Only in a quiet session; outside one (a test, ``-v``, the Python API) the prints stay where they were.
    """
    if _session is None or _session.verbose:
        yield
        return
    logger = logging.getLogger(name)
    out = _LinesToLog(logger, logging.INFO, sys.stdout)
    err = _LinesToLog(logger, logging.INFO, sys.stderr)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    finally:
        out.drain()
        err.drain()
