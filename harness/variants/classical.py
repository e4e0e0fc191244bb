"""Classical baselines: TF-IDF or sentence embeddings with logistic regression, beside every LLM variant.

The question they answer comes before any fine-tune: does a linear model,
trained in seconds on the same training split, already do as well? They read
each item's text (the user turns, as retrieval does), never the prompt
template, and answer with the label written in the task's answer format, so
their rows are scored by the same task rules as every other variant. Format
compliance does not apply (the answer is formatted by construction), and
forgetting does not either (no language model changes).

The fitted model is saved as plain arrays and JSON under ``workdir/classical``
(``harness.classical.save``), which is what ``bench package`` ships and
``bench serve`` loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from harness.model.generate import Generation
from harness.retrieval.corpus import query_text
from harness.variants.base import Prepared, Variant, VariantConfig, VariantSkipped, register


class TfidfConfig(VariantConfig):
    prompted: ClassVar[bool] = False  # reads the items' text: no prompt, no decoding to override
    kind: Literal["tfidf"] = "tfidf"


class EmbeddingClassifierConfig(VariantConfig):
    prompted: ClassVar[bool] = False
    kind: Literal["embedding_classifier"] = "embedding_classifier"
    encoder: Literal["minilm", "base_model"] = Field(
        default="minilm",
        description="minilm: all-MiniLM-L6-v2 sentence embeddings (the dense retriever's); "
        "base_model: the suite's base model, mean-pooled last hidden states",
    )


class ClassicalVariant(Variant):
    """Fit on train (hyperparameters chosen on validation), predict the test texts. No LLM involved."""

    answers_itself: ClassVar[bool] = True
    model_folder = "classical"

    def fit(self, texts: list[str], labels: list[str], val_texts: list[str], val_labels: list[str]):
        raise NotImplementedError

    def prepare(self, workdir: Path) -> Prepared:
        from harness.classical import save

        task = self.env.task
        if not getattr(task, "labels", None):
            raise VariantSkipped(f"kind '{self.kind}' classifies: the task has no label set")
        train = self.env.split("train").items
        validation = self.env.splits["validation"].items if "validation" in self.env.splits else ()
        self._model = self.fit(
            [_text(i) for i in train],
            [i.label for i in train],
            [_text(i) for i in validation],
            [i.label for i in validation],
        )
        save(self._model, workdir / self.model_folder)
        record = self._model.fit_record
        size = self._model.size_bytes()
        n_coefficients = int(
            sum(
                a.size
                for a in self._model.classifier.arrays().values()
                if a.ndim == 2 or a.ndim == 1 and a.size == len(self._model.labels)
            )
        )
        cost = {
            "trainable_params": n_coefficients,
            "total_params": n_coefficients,
            "trainable_share": 1.0,
            "adapter_bytes": size,
            "weights_mb": size / 2**20,
            "compute_dtype": "float64",
        }
        # Shaped like an LLM's training history, so time and tokens read the same everywhere; no curves.
        training = {
            "seconds": record.fit_seconds,
            "steps": 0,
            "trained_tokens": 0,
            "computed_tokens": None,
            "loss_curve": [],
            "eval_curve": [],
            "resumed_from_checkpoint": False,
            "best_step": None,
            "classical": record.to_dict(),
        }
        return Prepared(cost=cost, training=training)

    def release(self) -> None:
        self._model = None  # saved in the variant's folder; packaging and serving load it from there

    def answer(self, items) -> list[Generation]:
        """The task's answer format filled with the predicted label, for every item, in one call."""
        prediction = self._model.predict([_text(i) for i in items])
        each = prediction.seconds / max(len(items), 1)
        self.probabilities = prediction.probabilities  # per item and label, in the task's label order
        answer_format = self.env.task.answer_format
        # The predicted label is its row's arg-max, so its confidence is the row's largest probability.
        return [
            Generation(
                text=answer_format.replace("{label}", label),
                prompt_tokens=0,
                output_tokens=0,
                seconds=each,
                confidence=float(row.max()),
            )
            for label, row in zip(prediction.labels, prediction.probabilities)
        ]


def _text(item) -> str:
    return query_text(item.prompt_messages())


@register
class Tfidf(ClassicalVariant):
    """Word 1-2-gram and character 2-5-gram TF-IDF, logistic regression (harness.classical.tfidf)."""

    kind = "tfidf"
    Config = TfidfConfig

    def fit(self, texts, labels, val_texts, val_labels):
        from harness.classical import fit_tfidf

        return fit_tfidf(
            texts,
            labels,
            list(self.env.task.labels),
            validation_texts=val_texts,
            validation_labels=val_labels,
            seed=self.env.seed_for(self.name),
        )


@register
class EmbeddingClassifier(ClassicalVariant):
    """Sentence embeddings (MiniLM, or the base model mean-pooled), logistic regression."""

    kind = "embedding_classifier"
    Config = EmbeddingClassifierConfig

    def fit(self, texts, labels, val_texts, val_labels):
        from harness.classical import fit_embedding, make_encoder

        if self.config.encoder == "minilm":  # the dense retriever's encoder: loaded once per process
            from harness.classical import MiniLMEncoder
            from harness.retrieval.dense import encoder as minilm

            encoder = MiniLMEncoder(minilm())
        else:
            encoder = make_encoder("base_model", model=self.env.base.model, tokenizer=self.env.base.tokenizer)
        return fit_embedding(
            texts,
            labels,
            list(self.env.task.labels),
            encoder=encoder,
            validation_texts=val_texts,
            validation_labels=val_labels,
            seed=self.env.seed_for(self.name),
        )

    def release(self) -> None:
        super().release()
        if self.config.encoder == "minilm":
            import gc

            from harness.retrieval.dense import encoder as minilm

            # MiniLM (about 90 MB resident) would otherwise stay loaded through every later stage, training
            # included; a dense retriever that runs later loads it again in a second.
            minilm.cache_clear()
            gc.collect()
