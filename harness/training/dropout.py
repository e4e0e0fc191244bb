"""LoRA's dropout with its mask drawn in bulk, where torch draws it one element at a time.

peft drops out each adapted layer's input before the adapter (``lora_dropout``).
torch's CPU dropout draws that Bernoulli mask through MKL, in parallel, only on
Intel CPUs; on any other CPU (AMD, ARM) it draws one element at a time from its
Mersenne Twister, serially. On the 2-core AMD EPYC that was 12% of a LoRA step
of legal_classifier (``aten::bernoulli_``, 6.9 of 56.8 profiled seconds over
three steps: q, k, v and o each drop their input, and gradient checkpointing
runs every layer's forward twice), more than the attention.

This dropout draws the same mask differently: a seed from torch's generator,
then 16-bit integers from numpy's SFC64, four to a 64-bit word, in one call; an
element is kept when its integer falls below ``round((1 - p) * 65536)``, and
kept elements are scaled by the inverse of that fraction, so the output's
expectation is the input, as torch's is. On the widest batch's [8, 363, 576]
input on that CPU: 4-6 ms against torch's 15-18 ms, and 3.5 s of dropout in
four LoRA steps against 9.7 s (``benchmarks/README.md``, "lora_dropout.py").

Because the seed comes from torch's generator, ``torch.manual_seed`` fixes the
masks, a resumed training restores them with the trainer's saved RNG state, and
gradient checkpointing's recompute, which restores torch's RNG state before it
replays a layer, draws the same mask as the first forward (a different mask
would make the gradient wrong; tests/test_bulk_dropout.py checks it). The kept
fraction is ``p`` rounded to 1/65536 (0.05 becomes 0.0500031).

Off the CPU (a GPU's dropout is fast and its RNG another), in evaluation, and
for a ``p`` that rounds to 0 or 1, it is torch's dropout.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LEVELS = 1 << 16  # one 16-bit draw per element


class BulkMaskDropout(nn.Module):
    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.keep_below = round((1 - p) * LEVELS)  # of LEVELS equally likely draws, how many keep the element

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or x.device.type != "cpu" or not 0 < self.keep_below < LEVELS:
            return F.dropout(x, self.p, self.training)
        seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))
        n = x.numel()
        draws = np.random.SFC64(seed).random_raw((n + 3) // 4).view(np.int16)[:n]
        # int16 runs from -32768, so "draw below keep_below" on the unsigned scale is this:
        kept = torch.from_numpy(draws).view(x.shape) < self.keep_below - LEVELS // 2
        # The boolean mask is what autograd keeps for the backward: a byte per element.
        return x * kept * (LEVELS / self.keep_below)

    def extra_repr(self) -> str:
        return f"p={self.p}"


@contextmanager
def bulk_mask_dropout(model: nn.Module):
    """For the block's duration, every LoRA dropout of ``model`` draws its mask in bulk; then peft's own again.

    peft keeps each adapted layer's dropout per adapter in a ``lora_dropout`` ModuleDict
    (``nn.Identity`` where the dropout is 0); only its ``nn.Dropout`` entries are swapped.
    """
    swapped = []
    for module in model.modules():
        per_adapter = getattr(module, "lora_dropout", None)
        if not isinstance(per_adapter, nn.ModuleDict):
            continue
        for name, dropout in per_adapter.items():
            if type(dropout) is nn.Dropout and not dropout.inplace:
                replacement = BulkMaskDropout(dropout.p)
                replacement.train(dropout.training)
                per_adapter[name] = replacement
                swapped.append((per_adapter, name, dropout))
    try:
        yield len(swapped)
    finally:
        for per_adapter, name, dropout in swapped:
            dropout.train(per_adapter[name].training)
            per_adapter[name] = dropout
