"""On a CPU, torch's attention kernel reads grouped key/value heads as they are, masked or not.

SmolLM2, like most current models, has fewer key/value heads than query heads
(3 against 9). transformers 5 passes them to torch's ``scaled_dot_product_attention``
as they are (``enable_gqa=True``) only when the pass has no attention mask: on
CUDA, a mask with grouped heads sends torch to its slow math kernel. With a mask
it first copies every key and value head out to the query heads' count
(``repeat_kv``), for every layer of every pass. Nearly every pass bench runs has
a mask (padded batches, prompts after the shared-prefix cache, rank mode's
candidate tree), so on a CPU each layer copied its whole key/value cache three
times over, per pass. torch's CPU kernel takes a mask and grouped heads together
and computes the same numbers (tests/unit/test_attention.py), so on a CPU bench
turns on the switch transformers reads at every call, ``TRANSFORMERS_SDPA_FORCE_GQA``,
unless the user set it. Measured on a 2-core AVX2 CPU in fp32: rank scoring of 64
legal_classifier items 78.5 s -> 68.7 s; one training forward and backward of
8 x 200 tokens about 5% faster (benchmarks/README.md, scoring_throughput.py).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

FORCE_GQA_ENV = "TRANSFORMERS_SDPA_FORCE_GQA"  # transformers' name, read on every attention call


def read_grouped_heads_as_they_are(device_type: str, environ: MutableMapping[str, str] = os.environ) -> bool:
    """Turn the switch on where the model runs on a CPU and the user has not set it; whether it is on."""
    if device_type == "cpu":
        environ.setdefault(FORCE_GQA_ENV, "1")
    return environ.get(FORCE_GQA_ENV, "0") == "1"
