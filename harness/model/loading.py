"""Load the base model and tokenizer once per run; every variant shares them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import BenchError
from harness.model.attention import read_grouped_heads_as_they_are
from harness.model.provision import resolve_model

DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


@dataclass
class BaseModel:
    model: Any
    tokenizer: Any
    source: str  # folder or hub id it was loaded from
    load_seconds: float
    dtype: str = "float32"  # as loaded: the weights are loaded again the same way (model/parking.py)
    trust_remote_code: bool = False

    @property
    def device(self):
        return next(self.model.parameters()).device


def load_base(
    name: str, *, dtype: str = "float32", trust_remote_code: bool = False, device: str | None = None
) -> BaseModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # bench draws its own bars
    started = time.perf_counter()
    source = resolve_model(name)
    # Only a hub id may touch the network; an alias or a folder loads strictly from disk.
    local = Path(source).exists()
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code, local_files_only=local)
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=getattr(torch, DTYPES[dtype]),
            trust_remote_code=trust_remote_code,
            use_safetensors=True,  # never unpickle weights: a .bin file can run code on load
            local_files_only=local,
        )
    except (OSError, ValueError, KeyError, ImportError) as exc:
        # transformers says "cannot load" in many ways (a missing file, the hub offline, custom code
        # refused, an unknown architecture); each is about the model given, not a bug in bench.
        raise BenchError(
            f"cannot load the model '{name}' from {source}: {_first_line(exc)}", hint=_load_hint(exc, source, local)
        ) from None
    # Left padding: batched generation appends new tokens on the right of every row.
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    read_grouped_heads_as_they_are(torch.device(device).type)
    return BaseModel(
        model=model,
        tokenizer=tokenizer,
        source=source,
        load_seconds=time.perf_counter() - started,
        dtype=dtype,
        trust_remote_code=trust_remote_code,
    )


def load_weights_again(base: BaseModel) -> dict:
    """The base's parameters, loaded afresh from its files exactly as ``load_base`` loaded them, by name.

    From disk only: ``load_base`` fetched a hub id's files into the local cache already."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        base.source,
        dtype=getattr(torch, DTYPES[base.dtype]),
        trust_remote_code=base.trust_remote_code,
        use_safetensors=True,
        local_files_only=True,
    )
    return dict(model.named_parameters())


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _load_hint(exc: Exception, source: str, local: bool) -> str:
    import os

    text = str(exc)
    if "trust_remote_code" in text or (local and "auto_map" in _read_text(Path(source) / "config.json")):
        return "the model ships its own code; bench runs it only if you pass --trust-remote-code (docs/security.md)"
    if local and not any(Path(source).glob("*.safetensors")):
        return (
            "bench loads weights only from .safetensors files (a .bin or .pt file can run code when unpickled); "
            "convert the model with save_pretrained(..., safe_serialization=True)"
        )
    if not local and os.environ.get("HF_HUB_OFFLINE", "").strip() not in ("", "0"):
        return (
            "HF_HUB_OFFLINE is set, so a hub id cannot be fetched: download it once with network, or use a local folder"
        )
    return "check the model name: an alias (bench models list), a local folder of safetensors, or a hub id"
