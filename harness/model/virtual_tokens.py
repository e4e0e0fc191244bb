"""Whether a model puts virtual tokens in front of its input: peft's prompt and prefix tuning.

Such a model does not compute the base model's function of the tokens it is given,
so every shortcut that reuses or recomputes part of a forward pass is wrong for it:
a cache of the prompt's shared first tokens (model/generate.py, model/rank.py), the
shared-prefix loss (training/shared_prefix_loss.py), and gradient checkpointing,
whose recomputed layers drop prefix tuning's virtual keys and values (training/sft.py).
"""

from __future__ import annotations


def has_virtual_tokens(model) -> bool:
    """True for a peft model whose active adapter is prompt learning (prompt, prefix or p-tuning)."""
    config = getattr(model, "active_peft_config", None)
    return bool(config is not None and config.is_prompt_learning)
