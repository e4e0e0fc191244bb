"""Forgetting probes: general-ability scores of the base model and of each variant.

A fine-tune that wins its own task can lose general ability. Probes are small
lm-eval tasks (shipped in tasks/, or public ones such as arc_easy when their
data is reachable) run through lm-eval's own evaluator on the model already in
memory, once for the base model and once per trained variant:

    base = run_probes(model, tok, ["bench_arithmetic"], limit=100, label="base", out_dir=run / "probes")
    lora = run_probes(peft_model, tok, ["bench_arithmetic"], limit=100, label="lora-r16", out_dir=run / "probes")
    compare_to_base(base, lora)   # per probe: delta with a paired interval; raises if the adapter did nothing

The comparison itself lives in compare.py.
"""

from __future__ import annotations

import atexit
import contextlib
import difflib
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, TypedDict

import yaml

from harness.core import quiet
from harness.core.errors import BenchError
from harness.core.files import shared_file_mode
from harness.probes.compare import AdapterNotAppliedError, compare_to_base  # noqa: F401  (public API)

PROBE_TASK_DIR = Path(__file__).resolve().parent / "tasks"
PROBE_PREFIX = "bench_"


class ProbeScore(TypedDict):
    status: str  # "ok" | "unavailable"
    metric: str | None  # the task's first metric, e.g. "acc" or "exact_match"
    score: float | None  # lm-eval's aggregate of that metric
    n: int
    per_item: list[float]  # that metric per item (0/1 for acc and exact_match), by doc id
    loglikelihoods: list[float]  # per item, of the gold choice; [] for generation tasks
    items_hash: str | None  # fingerprint of the items, so comparisons are truly paired
    reason: str | None  # why a task is unavailable


ProbeScores = dict[str, ProbeScore]


class UnknownProbeTaskError(BenchError):
    """A probe name that neither bench nor lm-eval knows."""


# ----------------------------------------------------------------------------- the shipped tasks
def list_probe_tasks() -> list[str]:
    """Names of the probe tasks shipped with bench (bench_*)."""
    names = []
    for path in sorted(PROBE_TASK_DIR.glob("*.yaml")):
        task = yaml.safe_load(path.read_text()).get("task")
        if isinstance(task, str) and task.startswith(PROBE_PREFIX):
            names.append(task)
    return names


def render_task_dir(dest: Path) -> Path:
    """Copy the shipped task YAMLs into dest with absolute data and include paths.

    lm-eval hands `data_files` to datasets.load_dataset, which resolves a
    relative path against the current working directory, not the YAML's
    folder; `include:` is resolved against the YAML's folder, so it too must
    point back at the shipped templates once the YAML moves.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(PROBE_TASK_DIR.glob("*.yaml")):
        cfg = yaml.safe_load(path.read_text())
        if "include" in cfg:
            cfg["include"] = str((path.parent / cfg["include"]).resolve())
        files = (cfg.get("dataset_kwargs") or {}).get("data_files")
        if isinstance(files, dict):
            cfg["dataset_kwargs"]["data_files"] = {
                split: str((path.parent / f).resolve()) for split, f in files.items()
            }
        header = f"# Rendered by bench from {path}; edit that file, not this one.\n"
        (dest / path.name).write_text(header + yaml.safe_dump(cfg, sort_keys=False))
    return dest


@functools.cache
def rendered_task_dir() -> Path:
    """One rendered copy per process, removed at exit."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-probes-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    return render_task_dir(tmp)


@functools.cache
def task_manager(include_defaults: bool):
    """lm-eval's TaskManager over bench's tasks (and lm-eval's own when asked).

    Indexing lm-eval's ~15k built-in task YAMLs takes about 4 s, so it is done
    only when a public benchmark is requested, and once per process.
    """
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(rendered_task_dir()), include_defaults=include_defaults)


# ----------------------------------------------------------------------------- running
def run_probes(
    model,
    tokenizer,
    tasks: list[str],
    *,
    limit: int | None,
    label: str,
    out_dir: Path,
    batch_size: int = 8,
) -> ProbeScores:
    """Score `model` on the probe tasks with lm_eval.simple_evaluate.

    `limit` takes the first N items of each task (lm-eval's own limit, which
    is deterministic). A group name (e.g. mmlu_stem) expands to its subtasks,
    reported one by one. Tasks whose data cannot be loaded (a public benchmark
    while offline) come back as {"status": "unavailable", "reason": ...}.
    lm-eval's per-item samples are written to out_dir/<label>/<task>.jsonl.
    """
    import lm_eval

    if not re.fullmatch(r"[A-Za-z0-9._-]+", label):
        raise ValueError(f"label {label!r} must be a plain file name (letters, digits, . _ -)")
    shipped = set(list_probe_tasks())
    manager = task_manager(include_defaults=any(t not in shipped for t in tasks))
    loaded, scores = _load_tasks(manager, tasks)
    if not loaded:
        return scores

    hflm_class = _quiet_hflm_class()
    was_training = model.training  # HFLM switches the model to eval mode
    # What lm-eval print()s rather than logs goes to bench.log with its logged notices (core/quiet.py).
    try:
        with quiet.library_output("lm_eval.output"), _git_lookup_off_the_terminal():
            lm = hflm_class(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, device=str(model.device))
            results = lm_eval.simple_evaluate(
                model=lm,
                tasks=loaded,
                task_manager=manager,
                limit=limit,
                log_samples=True,
                # Probes are greedy; leave the caller's global RNGs alone.
                random_seed=None,
                numpy_random_seed=None,
                torch_random_seed=None,
            )
    finally:
        model.train(was_training)

    for task, samples in results["samples"].items():
        _write_samples(Path(out_dir) / label / f"{task}.jsonl", samples)
        scores[task] = _probe_score(samples, results["results"][task])
    return scores


@contextlib.contextmanager
def _git_lookup_off_the_terminal():
    """lm-eval records the working directory's commit by running ``git describe``, whose stderr is inherited:
    outside a repository "fatal: not a git repository" reached the terminal in the middle of bench's progress
    lines (a child process writes to file descriptor 2, which library_output's redirection of Python's
    streams does not reach). The same lookup, with git's messages captured; bench records its own commit
    in the manifest."""
    import subprocess
    from unittest import mock

    import lm_eval.evaluator

    def git_describe() -> str | None:
        try:
            found = subprocess.run(["git", "describe", "--always"], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):  # git not installed, or hung
            return None
        return found.stdout.strip() if found.returncode == 0 else None

    with mock.patch.object(lm_eval.evaluator, "get_git_commit_hash", git_describe):
        yield


def _quiet_hflm_class():
    """lm-eval's HF model class without its per-request progress bars, which would
    print hundreds of lines into bench's own progress display."""
    from lm_eval.models.huggingface import HFLM

    class QuietHFLM(HFLM):
        def loglikelihood(self, requests, disable_tqdm: bool = False):
            return super().loglikelihood(requests, disable_tqdm=True)

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
            return super().loglikelihood_rolling(requests, disable_tqdm=True)

        def generate_until(self, requests, disable_tqdm: bool = False):
            return super().generate_until(requests, disable_tqdm=True)

    return QuietHFLM


def _load_tasks(manager, names: list[str]) -> tuple[list[Any], ProbeScores]:
    """Build each task on its own, so one unreachable dataset doesn't stop the rest."""
    loaded: list[Any] = []
    unavailable: ProbeScores = {}
    for name in names:
        if name not in manager.all_tasks:
            close = difflib.get_close_matches(name, manager.all_tasks, n=3)
            raise UnknownProbeTaskError(
                f"unknown probe task {name!r}: neither shipped with bench nor an lm-eval task",
                hint=f"did you mean {' or '.join(close)}?"
                if close
                else f"bench ships {', '.join(list_probe_tasks())}; `lm-eval ls tasks` lists lm-eval's",
            )
        try:
            built = manager.load([name])
        except Exception as err:  # datasets raises ConnectionError, FileNotFoundError, ... offline
            unavailable[name] = _unavailable(
                f"could not load the data of {name!r} ({type(err).__name__}: {str(err).splitlines()[0]}). "
                "Public benchmarks need the Hugging Face Hub or a local datasets cache "
                "(HF_DATASETS_OFFLINE=1 allows the cache only)."
            )
            continue
        if name in built["groups"]:
            loaded.append(built["groups"][name])
        else:
            loaded.extend(built["tasks"].values())
    return loaded, unavailable


def _unavailable(reason: str) -> ProbeScore:
    return ProbeScore(
        status="unavailable",
        metric=None,
        score=None,
        n=0,
        per_item=[],
        loglikelihoods=[],
        items_hash=None,
        reason=reason,
    )


def _probe_score(samples: list[dict], task_results: dict) -> ProbeScore:
    """Per-item values of the task's first metric, from lm-eval's logged samples."""
    first_filter = samples[0]["filter"]  # tasks with several filters log each; use the first
    rows = sorted((s for s in samples if s["filter"] == first_filter), key=lambda s: s["doc_id"])
    metric = rows[0]["metrics"][0]
    return ProbeScore(
        status="ok",
        metric=metric,
        score=float(task_results[f"{metric},{first_filter}"]),
        n=len(rows),
        per_item=[float(s[metric]) for s in rows],
        loglikelihoods=[ll for ll in map(_gold_loglikelihood, rows) if ll is not None],
        items_hash=hashlib.sha256("".join(s["doc_hash"] for s in rows).encode()).hexdigest()[:16],
        reason=None,
    )


def _gold_loglikelihood(sample: dict) -> float | None:
    """Log-likelihood the model gave the gold choice (first choice if no gold is known).

    Responses are (loglikelihood, is_greedy) per choice for loglikelihood
    requests, a bare float for rolling loglikelihood, and text for generation.
    """
    resps = sample["filtered_resps"]
    if not resps or isinstance(resps[0], str):
        return None
    target = sample["target"]
    gold = target[0] if isinstance(target, list) and target else target
    if isinstance(gold, str):
        continuations = [args[1].strip() for args in sample["arguments"]]
        gold = continuations.index(gold.strip()) if gold.strip() in continuations else 0
    if not isinstance(gold, int) or not 0 <= gold < len(resps):
        gold = 0
    resp = resps[gold]
    return float(resp[0] if isinstance(resp, (list, tuple)) else resp)


def _write_samples(path: Path, samples: list[dict]) -> None:
    """lm-eval's per-item samples as JSONL, written atomically (temp file, then rename)."""
    from lm_eval.utils import handle_non_serializable

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), shared_file_mode())  # mkstemp made it 0600
            for sample in sorted(samples, key=lambda s: (s["doc_id"], s["filter"])):
                fh.write(json.dumps(sample, default=handle_non_serializable, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
