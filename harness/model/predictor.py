"""The one way bench drives a model for evaluation: generate, rank or sample, batched.

A ``Predictor`` binds a model and its tokenizer to the suite's inference
settings. The run predicts through it, the merge check and the variability check
predict again through it, and nothing else calls ``model.generate`` for scoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from harness.model.generate import Generation, generate
from harness.model.rank import rank_choices
from harness.model.sample import sample_generations


@dataclass(frozen=True)
class Predictor:
    model: Any
    tokenizer: Any
    batch_size: int
    max_new_tokens: int
    max_batch_tokens: int | None = None  # rows x tokens per batch (model/batches.py)
    # The task's answers are one line (``Task.single_line_answers``): generation and sampling stop at the first
    # line instead of running to max_new_tokens; the merge check regenerates the same way, so texts compare.
    stop_at_first_line: bool = False

    @classmethod
    def for_inference(cls, model, tokenizer, inference, *, single_line_answers: bool) -> "Predictor":
        """``model`` answering with a suite's ``inference:`` settings (an ``InferenceSpec``, a variant's overrides
        applied) for a task whose answers are one line or not (``Task.single_line_answers``)."""
        return cls(
            model,
            tokenizer,
            batch_size=inference.batch_size,
            max_new_tokens=inference.max_new_tokens,
            max_batch_tokens=inference.max_batch_tokens,
            stop_at_first_line=single_line_answers,
        )

    def generate(
        self,
        conversations: list[list[dict]],
        *,
        on_batch: Callable[[int], None] | None = None,
        with_confidence: bool = False,
    ) -> list[Generation]:
        """Greedy decoding, up to ``max_new_tokens`` each (or the first line, see ``stop_at_first_line``)."""
        return generate(
            self.model,
            self.tokenizer,
            conversations,
            batch_size=self.batch_size,
            max_new_tokens=self.max_new_tokens,
            max_batch_tokens=self.max_batch_tokens,
            on_batch=on_batch,
            stop_at_first_line=self.stop_at_first_line,
            with_confidence=with_confidence,
        )

    def rank(
        self, conversations: list[list[dict]], choices: list[str], *, on_batch: Callable[[int], None] | None = None
    ) -> list[Generation]:
        """The likeliest of ``choices`` for each conversation, by log-likelihood."""
        return rank_choices(
            self.model,
            self.tokenizer,
            conversations,
            choices,
            batch_size=self.batch_size,
            max_batch_tokens=self.max_batch_tokens,
            on_batch=on_batch,
        )

    def answer(
        self, conversations: list[list[dict]], task, *, mode: str, on_batch: Callable[[int], None] | None = None
    ) -> list[Generation]:
        """The suite's way of answering: ``rank`` picks the likeliest well-formed answer (classification only,
        checked on load: the answer format filled with each label); ``generate`` decodes greedily."""
        if mode == "rank":
            choices = [task.answer_format.replace("{label}", label) for label in task.labels]
            return self.rank(conversations, choices, on_batch=on_batch)
        # A label's answer carries its probability, for calibration (harness/stats/calibration.py).
        return self.generate(
            conversations, on_batch=on_batch, with_confidence=bool(getattr(task, "needs_label", False))
        )

    def sample(
        self, conversations: list[list[dict]], *, samples: int, temperature: float, seed: int
    ) -> list[list[str]]:
        """``samples`` sampled continuations per conversation."""
        return sample_generations(
            self.model,
            self.tokenizer,
            conversations,
            samples=samples,
            temperature=temperature,
            batch_size=self.batch_size,
            max_new_tokens=self.max_new_tokens,
            seed=seed,
            stop_at_first_line=self.stop_at_first_line,
        )
