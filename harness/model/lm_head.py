"""Contiguous input for the LM head while bench answers: torch's CPU bf16 linear on a strided view.

transformers computes only the last positions' logits (``logits_to_keep``) by slicing the
hidden states, ``hidden[:, -k:, :]``: a view whose rows lie 472 tokens apart in a long
prompt's batch. On a CPU, ``F.linear`` with a bf16 weight that does not require grad (a
frozen base under an adapter, or a merged or QLoRA copy) and such a view multiplies the
whole underlying [rows x prompt] block and keeps k positions. Measured with torch 2.13 on a
49,152 x 576 head and a 16 x 472 batch (benchmarks/README.md, "Found and fixed: the LM
head multiplied the whole prompt block"): +865 MB and 1.5 s for the view against +1 MB
and 6 ms for a contiguous copy of the same 16 rows; fp32, and weights that require grad
(the base as loaded), take the fast path. That one call set the peak of every LoRA run
(its validation passes and test predictions).

Copying the kept rows first costs rows x k x hidden values, so the hook is on for every
model bench answers with, not only the ones known to hit the slow path.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Callable, Iterator


def _contiguous_input(_module, args):
    if not args or args[0].is_contiguous():
        return None  # unchanged (transformers passes the hidden states positionally)
    return (args[0].contiguous(), *args[1:])


@contextmanager
def contiguous_head_input(model) -> Iterator[None]:
    """While inside, the LM head of ``model`` (a transformers model or a peft model around one) receives a
    contiguous copy of any strided input. A model without one (a wrapper with its own generate) is left as is."""
    get_head = getattr(model, "get_output_embeddings", None)
    head = get_head() if callable(get_head) else None
    if head is None or not hasattr(head, "register_forward_pre_hook"):
        yield
        return
    handle = head.register_forward_pre_hook(_contiguous_input)
    try:
        yield
    finally:
        handle.remove()


def with_contiguous_head_input(answer: Callable) -> Callable:
    """Decorates a function whose first argument is the model it answers with (generate, rank, sample)."""

    @functools.wraps(answer)
    def answering(model, *args, **kwargs):
        with contiguous_head_input(model):
            return answer(model, *args, **kwargs)

    return answering
