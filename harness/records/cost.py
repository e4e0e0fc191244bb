"""A variant's cost record (results.json ``variants.<name>.cost``): what preparing and predicting took.

Seconds are wall time; memory is the peak over prepare and predict; token counts
are means per test item. A variant kind may add its own figures (retrieval:
``retrieval_k``, ``retrieval_latency_ms_mean``, ...; prompt learning:
``virtual_tokens``); they are kept in ``extra``, in the order they were written.
A variant that did not run has an empty cost record (``{}``).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.records.base import JsonRecord

RANK = "rank"  # inference mode: the likeliest well-formed answer is chosen, nothing is generated
CLASSICAL = "classical"  # a classical classifier (tfidf, embedding_classifier): the label, formatted by construction


@dataclass(frozen=True)
class Cost(JsonRecord):
    train_seconds: float | None = None
    prepare_seconds: float | None = None  # training included, plus any index or demonstration building
    infer_seconds: float | None = None
    probe_seconds: float | None = None  # forgetting probes, outside the inference measured above
    peak_rss_mb: float | None = None
    peak_cuda_mb: float | None = None
    # Each stage's own peak RSS (the process's, so it includes what earlier stages still hold); the manifest
    # gathers them per stage. recheck: the merge check and variability, when the suite asks for them.
    prepare_peak_rss_mb: float | None = None
    infer_peak_rss_mb: float | None = None
    probe_peak_rss_mb: float | None = None
    recheck_peak_rss_mb: float | None = None
    prompt_tokens_mean: float | None = None
    computed_prompt_tokens_mean: float | None = None  # a prefix shared by every prompt counted once
    output_tokens_mean: float | None = None
    infer_tokens_per_second: float | None = None
    trainable_params: int | None = None
    total_params: int | None = None
    trainable_share: float | None = None
    adapter_bytes: int | None = None
    weights_mb: float | None = None
    compute_dtype: str | None = None
    inference_mode: str | None = None  # "generate", "rank" or "classical"; records older than rank mode have none
    trained_tokens: int | None = None
    train_tokens_per_second: float | None = None
    train_computed_tokens: int | None = None
    train_flops: float | None = None
    infer_flops: float | None = None
    train_peak_flops_per_second: float | None = None
    infer_peak_flops_per_second: float | None = None
    train_utilisation: float | None = None
    infer_utilisation: float | None = None
    price_per_hour: float | None = None
    usd: float | None = None  # (prepare + infer seconds) at price_per_hour; None without a price

    @property
    def format_measured(self) -> bool:
        """False in rank mode and for classical classifiers: the answer is chosen among well-formed ones (or
        formatted from a label), so format compliance is 100% by construction, not measured."""
        return self.inference_mode not in (RANK, CLASSICAL)

    @property
    def compute_seconds(self) -> float:
        """Training plus inference: the seconds the report compares variants by when there is no price."""
        return (self.train_seconds or 0.0) + (self.infer_seconds or 0.0)

    @property
    def run_seconds(self) -> float:
        """What the variant took in the run that computed it: prepare, predict and probe."""
        return (self.prepare_seconds or 0) + (self.infer_seconds or 0) + (self.probe_seconds or 0)
