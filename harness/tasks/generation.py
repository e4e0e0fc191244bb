"""Free generation: any text is an answer; the suite's constraints say which are well-formed.

format_ok: every constraint is met. correct: well-formed AND ROUGE-L against
the reference at least ``min_rouge_l``, a deliberately simple per-item pass
mark so the gate's paired tests apply; the continuous scores (ROUGE-L, chrF)
are reported beside it.

Reference overlap comes from maintained libraries: ROUGE-L (Google's
rouge-score, F-measure with stemming) and chrF (sacrebleu). Constraints
(length, regex, required and forbidden phrases, numbers kept) are checked per
item so that paired comparisons and the gate work as for any other task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar, Literal, Sequence

import numpy as np
from pydantic import Field, field_validator

from harness.core.config import Strict
from harness.core.errors import require
from harness.stats import intervals
from harness.tasks.base import (
    EMPTY,
    OVERLONG,
    FailureMode,
    Metric,
    Parsed,
    ReportWords,
    TaskCommon,
    TaskType,
    register_task_type,
)

NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")  # 1,000.50 and 16:45 and 12/02/2024 are one number each


class GenerationConstraints(Strict):
    max_words: int | None = Field(default=None, ge=1)
    min_words: int | None = Field(default=None, ge=0)
    regex: str | None = Field(default=None, description="the output must contain a match")
    required_phrases: list[str] = Field(default_factory=list)
    forbidden_phrases: list[str] = Field(default_factory=list, description="matched as whole words, ignoring case")
    keep_numbers: bool = Field(default=False, description="every number in the input must appear in the output")

    @field_validator("regex")
    @classmethod
    def regex_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern


class GenerationTask(TaskCommon):
    type: Literal["generation"]
    constraints: GenerationConstraints = GenerationConstraints()
    min_rouge_l: float = Field(
        default=0.3, ge=0, le=1, description="per-item pass mark: well-formed and ROUGE-L at least this"
    )


# ----------------------------------------------------------------------------- scores and constraints of one text
@lru_cache(maxsize=1)
def _rouge():
    rouge_scorer = require("rouge_score.rouge_scorer", package="rouge-score", feature="generation tasks")
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(output: str, reference: str) -> float:
    return float(_rouge().score(reference, output)["rougeL"].fmeasure)


def chrf(output: str, reference: str) -> float:
    sacrebleu = require("sacrebleu", feature="generation tasks")
    return float(sacrebleu.sentence_chrf(output, [reference]).score) / 100


@dataclass(frozen=True)
class Constraints:
    max_words: int | None = None
    min_words: int | None = None
    regex: str | None = None
    required_phrases: tuple[str, ...] = ()
    forbidden_phrases: tuple[str, ...] = ()
    keep_numbers: bool = False
    _compiled: dict = field(default_factory=dict, compare=False, repr=False)

    def check(self, output: str, source: str) -> dict[str, bool]:
        """Each constraint the suite set -> whether ``output`` meets it."""
        words = len(output.split())
        lowered = output.casefold()
        results: dict[str, bool] = {}
        if self.max_words is not None:
            results["max_words"] = words <= self.max_words
        if self.min_words is not None:
            results["min_words"] = words >= self.min_words
        if self.regex is not None:
            results["regex"] = re.search(self.regex, output) is not None
        if self.required_phrases:
            results["required_phrases"] = all(p.casefold() in lowered for p in self.required_phrases)
        if self.forbidden_phrases:
            # Whole words, with an optional plural: "PO" must not match inside "POSSIBLE", "NSAID" matches "NSAIDs".
            results["forbidden_phrases"] = not any(
                re.search(rf"(?<!\w){re.escape(p.casefold())}s?(?!\w)", lowered) for p in self.forbidden_phrases
            )
        if self.keep_numbers:
            results["keep_numbers"] = set(NUMBER.findall(source)) <= set(NUMBER.findall(output))
        results["non_empty"] = bool(output.strip())
        return results


def judged_mean_parts(rows: Sequence[dict], labels: Sequence[str] = ()) -> tuple[np.ndarray, object]:
    """Per item [judge score, 1] where the judge's reply was read, [0, 0] where not (harness/judge).

    Summed, the score total and the count of read replies: the metric is their mean, so an
    unparseable reply is left out of the mean instead of scoring as 0. A row without the field
    (a run without a judge) raises KeyError, which paired comparisons read as "no delta".
    """
    read = np.array([row["judge_ok"] and row["judge_score"] is not None for row in rows], dtype=float)
    scores = np.array([row["judge_score"] if ok else 0.0 for row, ok in zip(rows, read)], dtype=float)
    return np.column_stack([scores, read]), _mean_of_read


def _mean_of_read(sums: np.ndarray) -> np.ndarray:
    # A resample without a single read reply has no mean; nan, not a made-up 0.
    return np.divide(sums[:, 0], sums[:, 1], out=np.full(len(sums), np.nan), where=sums[:, 1] > 0)


# ----------------------------------------------------------------------------- the task type
@register_task_type
@dataclass(frozen=True)
class GenerationTaskRules(TaskType):
    constraints: Constraints
    min_rouge_l: float = 0.3

    name: ClassVar[str] = "generation"
    Spec: ClassVar[type] = GenerationTask
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("accuracy", "pass rate", "correct", gate_default=True, means="pass rate"),
        Metric(
            "rouge_l",
            "ROUGE-L",
            "rouge_l",
            combine="mean",
            means="mean ROUGE-L F-measure",
            hub_type="rouge",
            hub_args={"rouge_types": ["rougeL"]},
        ),
        Metric("chrf", "chrF", "chrf", combine="mean", means="mean chrF, as a share"),
        # Only with a judge: block (docs/judge.md); a run without one has neither key.
        Metric(
            "judge_score",
            "judge score",
            "judge_score",
            combine=judged_mean_parts,
            means="mean judge score on 0-1 over the outputs whose judge reply could be read",
        ),
        Metric(
            "judge_parse_rate",
            "judge replies read",
            "judge_ok",
            shown_as="share",
            means="share of outputs whose judge reply was exactly an allowed answer",
        ),
        Metric(
            "format_compliance",
            "constraint compliance",
            "format_ok",
            gate_default=True,
            shown_as="share",
            means="every constraint met",
        ),
    )
    words: ClassVar[ReportWords] = ReportWords(
        headline="accuracy",
        second="rouge_l",
        columns=("accuracy", "rouge_l", "chrf", "judge_score", "judge_parse_rate", "format_compliance"),
        paired=("accuracy", "rouge_l", "chrf", "judge_score"),
        compliant="constraint-compliant",
        compliance_means="within every constraint of the suite",
        intervals="Wilson for the pass rate and constraint compliance, effective-n Wilson for ROUGE-L, chrF "
        "and the judge score (over the replies read)",
    )
    failure_modes: ClassVar[dict[str, FailureMode]] = {
        "empty": EMPTY,
        "overlong": OVERLONG,
        "invalid": FailureMode("constraint broken", "the text breaks at least one of the suite's constraints"),
        "wrong_label": FailureMode(
            "below pass mark", "every constraint met, but ROUGE-L against the reference is below {min_rouge_l}"
        ),
    }  # a pass is well-formed by definition: no format_only mode
    failure_values: ClassVar[dict[str, str]] = {"min_rouge_l": "the suite's mark"}
    problems_title: ClassVar[str] = "constraints most often broken"
    breakdowns: ClassVar[tuple[str, ...]] = ("per_constraint", "words_mean")
    hub_task: ClassVar[tuple[str, str]] = ("text2text-generation", "Constrained rewriting")

    @classmethod
    def from_spec(cls, spec: GenerationTask) -> "GenerationTaskRules":
        c = spec.constraints
        constraints = Constraints(
            max_words=c.max_words,
            min_words=c.min_words,
            regex=c.regex,
            required_phrases=tuple(c.required_phrases),
            forbidden_phrases=tuple(c.forbidden_phrases),
            keep_numbers=c.keep_numbers,
        )
        return cls(constraints=constraints, min_rouge_l=spec.min_rouge_l)

    def label_of(self, answer: str) -> None:
        return None

    def describe_answer(self) -> str:
        return "free text"

    def check_gold(self, answer: str) -> str | None:
        return None

    def parse(self, output: str) -> Parsed:
        """The text itself; well-formed as far as the text alone tells (keep_numbers needs the input: see score)."""
        text = output.strip()
        return Parsed(answer=text, format_ok=all(self.constraints.check(text, "").values()))

    def score(self, output: str, item) -> dict:
        text = output.strip()
        source = "\n".join(m["content"] for m in item.prompt if m["role"] == "user")
        checks = self.constraints.check(text, source)
        rl = rouge_l(text, item.answer) if text else 0.0
        well_formed = all(checks.values())
        return {
            "parsed": text,
            "gold": item.answer,
            "format_ok": well_formed,
            "correct": well_formed and rl >= self.min_rouge_l,
            "rouge_l": rl,
            "chrf": chrf(text, item.answer) if text else 0.0,
            "words": len(text.split()),
            "constraints": checks,
        }

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        return score_generation(rows, seed=seed)

    # ------------------------------------------------------------------------- report and model card
    @staticmethod
    def unreadable(row: dict) -> bool:
        # A generation's text is always "read"; what makes it unusable is a broken constraint.
        return not row.get("format_ok")

    @staticmethod
    def problems(row: dict) -> list[str]:
        return [name for name, ok in (row.get("constraints") or {}).items() if not ok]

    @staticmethod
    def reading(row: dict) -> str:
        broken = [name for name, ok in (row.get("constraints") or {}).items() if not ok]
        scores = " · ".join(
            f"{name} {row[key]:.2f}"
            for name, key in (("ROUGE-L", "rouge_l"), ("chrF", "chrf"))
            if isinstance(row.get(key), (int, float))
        )
        verdict = f"broken: {', '.join(broken)}" if broken else "every constraint met"
        return f"{scores} · {verdict}" if scores else verdict

    @staticmethod
    def risks(metrics: dict, n: int) -> list[str]:
        risks = []
        compliant = round(metrics["format_compliance"]["value"] * n)
        if compliant < n:
            risks.append(
                f"{n - compliant} of {n} outputs broke at least one of the suite's constraints; check outputs before use."
            )
        broken = sorted(
            (
                (n - round(c["value"] * n), name)
                for name, c in (metrics.get("per_constraint") or {}).items()
                if c["value"] is not None
            ),
            key=lambda pair: (-pair[0], pair[1]),
        )
        for count, name in broken[:3]:
            if count:
                risks.append(f"The constraint '{name}' was broken by {count} of {n} outputs.")
        passed = round(metrics["accuracy"]["value"] * n)  # a pass is a compliant output with ROUGE-L at the pass mark
        if passed < compliant:
            risks.append(
                f"{compliant - passed} of {n} outputs met every constraint but stayed below the suite's ROUGE-L "
                "pass mark against the reference."
            )
        return risks

    @staticmethod
    def scope_note(task: dict, record: dict) -> str:
        checked = ", ".join(record["metrics"].get("per_constraint") or {}) or "none"
        return (
            f"Outputs were checked only against the suite's constraints ({checked}) and scored by ROUGE-L and chrF "
            "against one reference each; meaning, factual accuracy and fluency were not judged by a person."
        )


def score_judged(rows: Sequence[dict]) -> dict:
    """The judge's metrics over rows it graded (harness/judge): its mean score over read replies, and their share."""
    judged = [r for r in rows if "judge_ok" in r]
    if not judged:
        return {}
    read = [r["judge_score"] for r in judged if r["judge_ok"]]
    return {
        "judge_score": intervals.mean(read),
        "judge_parse_rate": intervals.proportion(len(read), len(judged)),
    }


def score_generation(rows: Sequence[dict], *, seed: int) -> dict:
    n = len(rows)
    constraint_names = sorted({name for r in rows for name in r["constraints"]})
    return {
        **score_judged(rows),
        "accuracy": intervals.proportion(sum(r["correct"] for r in rows), n),
        "format_compliance": intervals.proportion(sum(r["format_ok"] for r in rows), n),  # every constraint met
        # means of [0, 1] scores: effective-n Wilson from the plug-in variance, no resampling (``seed`` unused)
        "rouge_l": intervals.mean([r["rouge_l"] for r in rows]),
        "chrf": intervals.mean([r["chrf"] for r in rows]),
        "words_mean": sum(r["words"] for r in rows) / max(n, 1),
        "per_constraint": {
            name: intervals.proportion(sum(r["constraints"].get(name, True) for r in rows), n)
            for name in constraint_names
        },
    }
