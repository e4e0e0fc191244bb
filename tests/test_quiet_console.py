"""`bench run` as a user runs it: the terminal holds bench's lines only; the libraries' go to the run folder's bench.log.

The run is the real command in a subprocess (the quieting must happen before the
libraries are imported, which an in-process call cannot show), on the tiny
suite with its LoRA variant and one small forgetting probe: training brings
transformers' FutureWarnings, the probes lm-eval's notices and progress bars.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from rich.console import Console

from harness.core import quiet

BENCH = Path(sys.executable).with_name("bench")

# What third-party output looks like on a terminal; none of it may reach bench's.
FOREIGN = (
    "Warning",  # FutureWarning, UserWarning, ... and "warnings.warn(" source lines
    "warn(",
    "%|",  # a tqdm bar
    "it/s]",
    "s/it]",
    "[transformers]",
    "`pretrained`",  # lm-eval's notices about the model it was handed
    "already-initialized model",
    "Traceback",
)


def with_probe(suite: Path) -> Path:
    text = suite.read_text().replace("variants:\n", "probes:\n  tasks: [bench_arithmetic]\n  limit: 6\nvariants:\n", 1)
    suite.write_text(text)
    return suite


def bench(*args: str, model_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TQDM_", "HF_HUB_DISABLE", "HF_DATASETS_DISABLE"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env["BENCH_ALLOW_PATHS"] = str(model_dir)  # the tiny model lives outside the suite's folder
    return subprocess.run(
        [str(BENCH), *args], capture_output=True, text=True, env=env, timeout=900, check=False, stdin=subprocess.DEVNULL
    )


def foreign_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(marker in line for marker in FOREIGN)]


@pytest.fixture
def probe_suite(tiny_suite) -> Path:
    return with_probe(tiny_suite)


def test_a_run_prints_only_bench_lines_and_logs_the_libraries(probe_suite, tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = bench(
        "run", str(probe_suite), "--out", str(run_dir), "--store", str(tmp_path / "store"), model_dir=tiny_model_dir
    )
    assert done.returncode == 0, done.stderr

    # The terminal: bench's progress and summary, nothing from the libraries.
    assert foreign_lines(done.stderr) == []
    assert foreign_lines(done.stdout) == []
    for line in ("train lora ...", "probes on the base model ...", "probes on lora: done in", f"run folder: {run_dir}"):
        assert line in done.stderr
    assert "tiny: 9 test items" in done.stdout  # the summary table
    log = run_dir / "bench.log"
    assert f"library messages: {log}" in done.stderr

    # The log: what the libraries said, each line with its source.
    text = log.read_text()
    assert "FutureWarning" in text and "py.warnings" in text  # transformers, during training
    assert "WARNING lm_eval.models.huggingface: `pretrained` model kwarg is not of type `str`" in text
    assert "INFO lm_eval.evaluator" in text  # lm-eval's notices, kept in the log
    assert all(line not in done.stderr for line in text.splitlines() if line.strip())


def test_verbose_shows_the_libraries_on_the_terminal_too(probe_suite, tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = bench(
        "run", str(probe_suite), "--out", str(run_dir), "--store", str(tmp_path / "store"), "--only", "zero-shot", "-v",
        model_dir=tiny_model_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "`pretrained` model kwarg is not of type `str`" in done.stderr  # lm-eval's notice, on the terminal
    assert "%|" in done.stderr  # and its progress bars
    assert "`pretrained` model kwarg" in (run_dir / "bench.log").read_text()  # still in the log as well
    assert "predict zero-shot: done in" in done.stderr


def test_a_quiet_session_keeps_bench_lines_logs_the_rest_and_restores_the_process(tmp_path, capsys):
    root = logging.getLogger()
    before = (list(root.handlers), root.level, warnings.showwarning, sys.stdout, sys.stderr)
    with quiet.quiet_console() as session:
        Console(stderr=True).print("predict zero-shot ...")  # bench's console, still on the terminal
        print("a library's print")
        sys.stderr.write("\r 50%|#    | 1/2\r100%|##| 2/2\n")  # a bar: only its last drawing is kept
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("`old_name` is deprecated", FutureWarning)
        logging.getLogger("lm_eval.evaluator").info("Building contexts")
        session.log_to(tmp_path / "bench.log")  # what came before the run folder was known is kept
        with quiet.library_output("lm_eval.output"):
            print("a notice lm-eval prints")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "predict zero-shot ...\n")
    log = (tmp_path / "bench.log").read_text()
    for line in (
        "INFO output.stdout: a library's print",
        "INFO output.stderr: 100%|##| 2/2",
        "FutureWarning: `old_name` is deprecated",
        "INFO lm_eval.evaluator: Building contexts",
        "INFO lm_eval.output: a notice lm-eval prints",
    ):
        assert line in log
    assert "50%" not in log
    assert (list(root.handlers), root.level, warnings.showwarning, sys.stdout, sys.stderr) == before
