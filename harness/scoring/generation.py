"""Free-generation metrics: reference overlap from maintained libraries, and constraints.

ROUGE-L (Google's rouge-score, F-measure with stemming) and chrF (sacrebleu)
compare an output with its reference; constraints (length, regex, required and
forbidden phrases, numbers kept) are checked per item so that paired
comparisons and the gate work as for any other task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

from harness.core.errors import require
from harness.stats import intervals

NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")  # 1,000.50 and 16:45 and 12/02/2024 are one number each


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
                re.search(rf"(?<!\w){re.escape(p.casefold())}s?(?!\w)", lowered) for p in self.forbidden_phrases)
        if self.keep_numbers:
            results["keep_numbers"] = set(NUMBER.findall(source)) <= set(NUMBER.findall(output))
        results["non_empty"] = bool(output.strip())
        return results


def score_generation(rows: Sequence[dict], *, seed: int) -> dict:
    n = len(rows)
    constraint_names = sorted({name for r in rows for name in r["constraints"]})
    return {
        "accuracy": intervals.proportion(sum(r["correct"] for r in rows), n),
        "format_compliance": intervals.proportion(sum(r["format_ok"] for r in rows), n),  # every constraint met
        "rouge_l": intervals.mean([r["rouge_l"] for r in rows], seed=seed),
        "chrf": intervals.mean([r["chrf"] for r in rows], seed=seed),
        "words_mean": sum(r["words"] for r in rows) / max(n, 1),
        "per_constraint": {name: intervals.proportion(sum(r["constraints"].get(name, True) for r in rows), n)
                           for name in constraint_names},
    }
