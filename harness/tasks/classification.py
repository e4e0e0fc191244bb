"""Classification answers: ``answer_format`` with ``{label}`` filled by one label.

Two readings of an output, kept apart on purpose:
- **format_ok**: the whole output (trimmed) is exactly the answer format with a
  valid label. This is what a downstream parser relying on the format sees.
- **label**: the label the output names, read leniently (the format's prefix
  followed by a label, or failing that a lone valid label). Accuracy uses it,
  so a right answer with a stray full stop counts as right but not as well-formed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

INVALID = "<invalid>"


@dataclass(frozen=True)
class Parsed:
    label: str | None  # None: no valid label could be read
    format_ok: bool


@dataclass(frozen=True)
class ClassificationTaskRules:
    labels: tuple[str, ...]
    answer_format: str
    needs_label: bool = True

    @cached_property
    def _alternatives(self) -> str:
        # Longest first, so "sale" never shadows "sale_of_goods".
        return "|".join(re.escape(label) for label in sorted(self.labels, key=len, reverse=True))

    @cached_property
    def _strict(self) -> re.Pattern:
        before, after = self.answer_format.split("{label}")
        return re.compile(f"{re.escape(before)}({self._alternatives}){re.escape(after)}")

    @cached_property
    def _lenient(self) -> re.Pattern:
        before = self.answer_format.split("{label}")[0].strip()
        prefix = re.escape(before) + r"\s*" if before else ""
        return re.compile(f"{prefix}({self._alternatives})(?![A-Za-z0-9_])", re.IGNORECASE)

    @cached_property
    def _lone_label(self) -> re.Pattern:
        return re.compile(f"(?<![A-Za-z0-9_])({self._alternatives})(?![A-Za-z0-9_])", re.IGNORECASE)

    def label_of(self, answer: str) -> str | None:
        match = self._strict.fullmatch(answer.strip())
        return match.group(1) if match else None

    def parse(self, output: str) -> Parsed:
        text = output.strip()
        strict = self._strict.fullmatch(text)
        if strict:
            return Parsed(label=strict.group(1), format_ok=True)
        match = self._lenient.search(text) or self._lone_label.search(text)
        label = self._canonical(match.group(1)) if match else None
        return Parsed(label=label, format_ok=False)

    def _canonical(self, found: str) -> str:
        lowered = {label.lower(): label for label in self.labels}
        return lowered[found.lower()]

    def check_gold(self, answer: str) -> str | None:
        return None if self.label_of(answer) is not None else f"answer {answer!r} is not in the expected form {self.describe_answer()}"

    def score(self, output: str, item) -> dict:
        parsed = self.parse(output)
        return {"parsed": parsed.label, "gold": item.label, "correct": parsed.label == item.label,
                "format_ok": parsed.format_ok}

    def aggregate(self, rows: list[dict], *, seed: int) -> dict:
        from harness.scoring.classification import score_classification

        return score_classification([r["gold"] for r in rows], [r["parsed"] for r in rows],
                                    [r["format_ok"] for r in rows], self.labels, seed=seed)

    def describe_answer(self) -> str:
        return f"'{self.answer_format}' with label one of {list(self.labels)}"
