"""Load the base model and tokenizer once per run; every variant shares them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.model.provision import resolve_model

DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


@dataclass
class BaseModel:
    model: Any
    tokenizer: Any
    source: str  # folder or hub id it was loaded from
    load_seconds: float

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
    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code, local_files_only=local)
    # Left padding: batched generation appends new tokens on the right of every row.
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        source,
        dtype=getattr(torch, DTYPES[dtype]),
        trust_remote_code=trust_remote_code,
        use_safetensors=True,  # never unpickle weights: a .bin file can run code on load
        local_files_only=local,
    )
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    return BaseModel(model=model, tokenizer=tokenizer, source=source, load_seconds=time.perf_counter() - started)
