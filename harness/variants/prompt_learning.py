"""Prompt tuning (Lester et al., 2021) and prefix tuning (Li & Liang, 2021), through peft.

Both leave every weight of the model alone and learn ``num_virtual_tokens``
extra positions instead: prompt tuning learns input embeddings placed before the
prompt; prefix tuning learns a key and value per layer placed in the attention
cache. Training goes through peft's forward, which is sound.

Generation does not go through peft. With transformers 5 (the model argument
``past_key_values`` became ``cache``, and ``cache_position`` is gone) peft
0.21's ``prepare_inputs_for_generation`` no longer sees the cache: it re-injects
the virtual tokens at every decoding step, and its greedy outputs differ from
the model's own step-by-step argmax even for one unpadded prompt. So
``VirtualTokenGenerator`` builds the inputs itself and calls the base model's
``generate``; its outputs equal a cache-free greedy loop over peft's forward,
batched and left-padded or not (tests/test_variant_kinds.py checks this).
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Literal

import torch
from pydantic import Field

from harness.variants._peft import PeftVariant
from harness.variants.base import Prepared, TrainedVariantConfig, register


class PromptTuningVariantConfig(TrainedVariantConfig):
    kind: Literal["prompt_tuning"] = "prompt_tuning"
    num_virtual_tokens: int = Field(default=16, ge=1, le=512, description="learned embeddings put before the prompt")
    init: Literal["text", "random"] = Field(
        default="text", description="start from the embeddings of init_text (repeated to length), or at random"
    )
    init_text: str | None = Field(
        default=None, description="text whose token embeddings start the prompt; default: the suite's system prompt"
    )


class PrefixTuningVariantConfig(TrainedVariantConfig):
    kind: Literal["prefix_tuning"] = "prefix_tuning"
    num_virtual_tokens: int = Field(default=16, ge=1, le=512, description="learned key/value positions per layer")
    init: Literal["text", "random"] = Field(
        default="text", description="start from the keys and values the model computes for init_text, or at random"
    )
    init_text: str | None = Field(
        default=None, description="text whose keys and values start the prefix; default: the suite's system prompt"
    )
    projection: bool = Field(
        default=False,
        description="learn the prefix through a two-layer MLP (the paper's reparametrisation); starts at random",
    )
    projection_hidden_size: int | None = Field(default=None, ge=1, description="MLP width; default: the model's")


class PromptLearningVariant(PeftVariant):
    """Shared by both kinds: a virtual-token count in the cost, and the generator at predict time."""

    def init_text(self) -> str:
        # Starting from real words trains faster and more stably than random
        # vectors (Lester et al., §3.2; Li & Liang, §7.2); the task's instructions are the natural words.
        return self.config.init_text or self.prompt_template().system_prompt or "Answer with the label."

    def prepare(self, workdir) -> Prepared:
        prepared = super().prepare(workdir)
        # Each virtual token is one more position in every forward pass: a cost
        # at inference that the prompt's own token count does not show.
        prepared.cost["virtual_tokens"] = self.config.num_virtual_tokens
        return prepared

    @contextlib.contextmanager
    def activated(self, workdir=None) -> Iterator:
        with super().activated(workdir) as peft_model:
            yield VirtualTokenGenerator(peft_model)


@register
class PromptTuning(PromptLearningVariant):
    kind = "prompt_tuning"
    Config = PromptTuningVariantConfig

    def peft_config(self):
        from peft import PromptTuningConfig, PromptTuningInit

        c = self.config
        if c.init == "random":
            return PromptTuningConfig(
                num_virtual_tokens=c.num_virtual_tokens,
                task_type="CAUSAL_LM",
                prompt_tuning_init=PromptTuningInit.RANDOM,
            )
        return PromptTuningConfig(
            num_virtual_tokens=c.num_virtual_tokens,
            task_type="CAUSAL_LM",
            prompt_tuning_init=PromptTuningInit.TEXT,
            prompt_tuning_init_text=self.init_text(),
            tokenizer_name_or_path=self.env.base.source,
        )


@register
class PrefixTuning(PromptLearningVariant):
    kind = "prefix_tuning"
    Config = PrefixTuningVariantConfig

    def peft_config(self):
        from peft import PrefixTuningConfig

        c = self.config
        extra = {"encoder_hidden_size": c.projection_hidden_size} if c.projection_hidden_size else {}
        return PrefixTuningConfig(
            num_virtual_tokens=c.num_virtual_tokens, task_type="CAUSAL_LM", prefix_projection=c.projection, **extra
        )

    def initialise(self, peft_model) -> None:
        # peft starts a prefix at N(0, 1), far from any real key or value: the
        # model's first outputs are noise, and short training does not recover.
        if self.config.init == "text" and not self.config.projection:
            prefix_from_text(peft_model, self.env.base.tokenizer, self.init_text())


@torch.no_grad()
def prefix_from_text(peft_model, tokenizer, text: str) -> None:
    """Set the prefix to the keys and values the base model computes for ``text`` (repeated or cut to length).

    The prefix then starts as the model having read the text: the start that
    prompt tuning gets from the text's embeddings, one level deeper.
    """
    config = peft_model.active_peft_config
    virtual = config.num_virtual_tokens
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] or [tokenizer.eos_token_id]
    ids = (ids * (virtual // len(ids) + 1))[:virtual]
    base = peft_model.get_base_model()
    cache = base(input_ids=torch.tensor([ids], device=base.device), use_cache=True).cache
    # peft reads the embedding as (virtual, layers * 2, heads, head_dim): for each
    # layer its keys then its values, every head's vector side by side.
    columns = []
    for layer in cache.layers:
        for states in (layer.keys, layer.values):  # (1, heads, virtual, head_dim)
            columns.append(states[0].transpose(0, 1).reshape(virtual, -1))
    embedding = peft_model.prompt_encoder[peft_model.active_adapter].embedding
    embedding.weight.copy_(torch.cat(columns, dim=1).to(embedding.weight.dtype))


class VirtualTokenGenerator:
    """Greedy or sampled generation for a prompt-learning PeftModel, without peft's generate.

    It answers what ``harness.model.generate.generate`` asks of a model: ``parameters()``
    and ``generate(input_ids, attention_mask, ...)`` returning the input ids followed
    by the new tokens. Left padding stays on the far left, before the virtual
    tokens, so every row sees the same layout as in training: virtual tokens at
    positions 0..V-1, the prompt from position V on.
    """

    def __init__(self, peft_model):
        self.peft_model = peft_model
        self.peft_config = peft_model.active_peft_config
        self.base = peft_model.get_base_model()

    def parameters(self):
        return self.peft_model.parameters()

    def get_output_embeddings(self):
        """The base's LM head, so that bench's contiguous-head hook (model/lm_head.py) reaches it through this
        wrapper: without it, prompt tuning's batched prefill multiplied the whole prompt block in the head (a 32-row
        batch of legal prompts peaked at 3.3 GB against 1.6 GB with it: benchmarks/README.md)."""
        return self.base.get_output_embeddings()

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, num_return_sequences: int = 1, **kwargs):
        if num_return_sequences > 1:  # expand here: a prefix cache must match the expanded batch
            input_ids = input_ids.repeat_interleave(num_return_sequences, dim=0)
            attention_mask = attention_mask.repeat_interleave(num_return_sequences, dim=0)
        if self.peft_config.peft_type == "PREFIX_TUNING":
            return self._generate_with_prefix(input_ids, attention_mask, **kwargs)
        return self._generate_with_prompt(input_ids, attention_mask, **kwargs)

    def _generate_with_prefix(self, input_ids, attention_mask, **kwargs):
        virtual = self.peft_config.num_virtual_tokens
        batch = input_ids.shape[0]
        cache = self.peft_model.get_prompt(batch, max_cache_len=-1)  # a fresh cache holding the learned prefix
        # generate() treats the first cache-length ids as already processed, so the
        # ids get as many placeholders in front; the mask marks the prefix as attended.
        placeholders = input_ids.new_full((batch, virtual), int(kwargs.get("pad_token_id") or 0))
        output = self.base.generate(
            input_ids=torch.cat([placeholders, input_ids], dim=1),
            attention_mask=torch.cat([attention_mask.new_ones((batch, virtual)), attention_mask], dim=1),
            cache=cache,
            **kwargs,
        )
        return output[:, virtual:]

    def _generate_with_prompt(self, input_ids, attention_mask, **kwargs):
        virtual = self.peft_config.num_virtual_tokens
        batch, width = input_ids.shape
        prompts = self.peft_model.get_prompt(batch).to(self.base.dtype)
        embeds = self.peft_model.word_embeddings(input_ids)
        rows, masks = [], []
        for row in range(batch):  # padding stays leftmost, virtual tokens go right before the prompt
            pad = int((attention_mask[row] == 0).sum())
            rows.append(torch.cat([embeds[row, :pad], prompts[row], embeds[row, pad:]]))
            masks.append(torch.cat([attention_mask.new_zeros(pad), attention_mask.new_ones(virtual + width - pad)]))
        # Called with embeddings only, generate() returns the new tokens alone.
        new_tokens = self.base.generate(inputs_embeds=torch.stack(rows), attention_mask=torch.stack(masks), **kwargs)
        return torch.cat([input_ids, new_tokens], dim=1)
