"""Free generation: any text is an answer; the suite's constraints say which are well-formed.

format_ok: every constraint is met. correct: well-formed AND ROUGE-L against
the reference at least ``min_rouge_l``, a deliberately simple per-item pass
mark so the gate's paired tests apply; the continuous scores (ROUGE-L, chrF)
are reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.scoring.generation import Constraints, chrf, rouge_l, score_generation


@dataclass(frozen=True)
class GenerationTaskRules:
    constraints: Constraints
    min_rouge_l: float = 0.3
    needs_label: bool = False

    def label_of(self, answer: str) -> None:
        return None

    def describe_answer(self) -> str:
        return "free text"

    def check_gold(self, answer: str) -> str | None:
        return None

    def score(self, output: str, item) -> dict:
        text = output.strip()
        source = "\n".join(m["content"] for m in item.prompt if m["role"] == "user")
        checks = self.constraints.check(text, source)
        rl = rouge_l(text, item.answer) if text else 0.0
        well_formed = all(checks.values())
        return {"parsed": text, "gold": item.answer, "format_ok": well_formed, "correct": well_formed and rl >= self.min_rouge_l,
                "rouge_l": rl, "chrf": chrf(text, item.answer) if text else 0.0, "words": len(text.split()),
                "constraints": checks}

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        return score_generation(rows, seed=seed)
