"""Park the shared base model's weights while a variant works on a copy of its own.

QLoRA trains and predicts on its own 4-bit copy of the base. Left in memory
beside it, the shared full-precision base would make QLoRA's peak larger than
LoRA's, the opposite of what QLoRA is for (issue 22). While parked:

- on a GPU the weights wait in host memory and move back afterwards;
- on a CPU they are dropped, and loaded again afterwards from the model's own
  files, the way ``load_base`` loaded them: the same files and dtype give the
  same values, bit for bit, in the same parameter objects (tied weights stay
  tied, and anything holding the model keeps holding it).

Parked parameters live on the meta device, so a stage that used the shared base
by mistake fails loudly instead of computing on freed memory. Their shapes and
dtypes stay, so parameter counts and the footprint still read right.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator

from harness.model.loading import BaseModel, load_weights_again


@contextlib.contextmanager
def parked(base: BaseModel) -> Iterator[None]:
    import torch

    device = base.device
    parameters = dict(base.model.named_parameters())  # a tied weight once, under its first name
    place = "cpu" if device.type == "cuda" else "meta"
    for parameter in parameters.values():
        _replace(parameter, parameter.detach().to(place))
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    try:
        yield
    finally:
        _unpark(base, parameters, device)


def _unpark(base: BaseModel, parameters: dict, device) -> None:
    if device.type == "cuda":
        for parameter in parameters.values():
            _replace(parameter, parameter.detach().to(device))
        return
    fresh = load_weights_again(base)
    missing = sorted(parameters.keys() - fresh.keys())
    if missing:  # the base changed shape while parked (an adapter left in it): a bug, not the user's input
        raise RuntimeError(
            f"cannot restore the parked base model: {len(missing)} parameters not in its files, {missing[0]}"
        )
    for name, parameter in parameters.items():
        _replace(parameter, fresh[name].detach())


def _replace(parameter, tensor) -> None:
    """Give ``parameter`` (the same Python object) ``tensor``'s contents and device; its old storage is freed.

    ``.data =`` cannot move a tensor to the meta device; swapping the tensors can."""
    import torch

    torch.utils.swap_tensors(parameter, torch.nn.Parameter(tensor, requires_grad=parameter.requires_grad))
