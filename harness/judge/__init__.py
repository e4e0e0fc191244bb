"""Model-graded scoring of generation outputs: a judge behind an OpenAI-compatible endpoint, or a local model.

    setup = prepare_judge(loaded_suite)          # before the run: the suite's judge: block, its files checked
    summary = judge_variants(setup, rows_by_variant, items, cache_root=..., secret=..., progress=...)

``judge_variants`` adds ``judge_ok``/``judge_score``/``judge_reply`` (and ``judge_flip``
for pairwise) to each row and returns what the judge did: replies read and not read,
requests made and answered from the cache, position-bias flips, agreement with
ROUGE-L and with a person's grades. The per-item score becomes the ``judge_score``
metric of generation tasks (harness/tasks/generation.py). docs/judge.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import BenchError, Problem
from harness.judge.agreement import human_agreement, load_human_grades, rouge_agreement
from harness.judge.backends import HttpJudge, Judge, LocalJudge, judge_from_spec
from harness.judge.cache import JudgeCache
from harness.judge.grade import grade_pairwise, grade_rubric, summarise
from harness.suite.judge_spec import JudgeSpec

__all__ = [
    "JudgeSetup",
    "prepare_judge",
    "judge_variants",
    "HttpJudge",
    "LocalJudge",
    "Judge",
    "JudgeCache",
    "judge_from_spec",
]


@dataclass(frozen=True)
class JudgeSetup:
    spec: JudgeSpec
    human_grades: list[dict] | None


def prepare_judge(suite) -> JudgeSetup | None:
    """The suite's judge, checked before anything slow runs: its key's variable, its model folder, its grades file."""
    spec: JudgeSpec | None = suite.spec.judge
    if spec is None:
        return None
    if spec.api_key_env and not os.environ.get(spec.api_key_env):
        raise BenchError(
            f"judge.api_key_env names {spec.api_key_env}, which is not set in the environment",
            problems=[Problem(str(suite.path), suite.line_of("judge", "api_key_env"), "judge.api_key_env", "not set")],
            hint=f"export {spec.api_key_env}=<key> before bench run",
        )
    if spec.model_path is not None:
        _check_local_model(suite, spec.model_path)
    grades = None
    if spec.human_grades:
        path = suite.resolve_path(spec.human_grades, field="judge.human_grades")
        grades = load_human_grades(path, str(path))
    return JudgeSetup(spec=spec, human_grades=grades)


def _check_local_model(suite, name: str) -> None:
    """A judge model folder is fenced like the base model's (model/provision.py ``check_suite_model``)."""
    from harness.model.provision import ALIASES, cache_root

    if name in ALIASES or not Path(name).expanduser().exists():
        return
    folder = Path(name).expanduser().resolve()
    if not (suite.allows(folder) or folder.is_relative_to((cache_root() / "models").resolve())):
        raise BenchError(
            "the judge's model_path is a folder outside the suite's folder and the model cache",
            problems=[
                Problem(
                    str(suite.path), suite.line_of("judge", "model_path"), "judge.model_path", f"{name} is {folder}"
                )
            ],
            hint="if the suite may read it, pass --allow-path DIR",
        )


def judge_variants(
    setup: JudgeSetup,
    rows_by_variant: dict[str, list[dict]],
    items: dict,
    *,
    cache_root: Path,
    secret: bytes,
    judge: Judge | None = None,
    progress=None,
) -> dict:
    """Grade every row (in place); return the run's judge summary for results.json."""
    spec = setup.spec
    judge = judge or judge_from_spec(spec)
    cache = JudgeCache(cache_root, secret)
    grade = grade_pairwise if spec.mode == "pairwise" else grade_rubric
    if progress is not None:
        with progress.task("judge", total=None) as advance:
            grade(spec, judge, cache, rows_by_variant, items, on_batch=lambda n: advance(advance=n))
    else:
        grade(spec, judge, cache, rows_by_variant, items)
    variants = {name: summarise(spec, rows) for name, rows in rows_by_variant.items()}
    return {
        "mode": spec.mode,
        "judge": {"endpoint": spec.endpoint, "model": spec.model, "model_path": spec.model_path},
        "rubric": spec.rubric,
        "scale": list(spec.scale) if spec.mode == "rubric" else None,
        "reference": spec.reference,
        "requests": judge.requests,  # asked of the judge in this run; a rerun answered from the cache makes none
        "cached": cache.hits,
        "variants": {name: s for name, s in variants.items() if s is not None},
        "rouge_l": rouge_agreement(rows_by_variant),
        "human": human_agreement(setup.human_grades, rows_by_variant, spec.pass_mark) if setup.human_grades else None,
    }
