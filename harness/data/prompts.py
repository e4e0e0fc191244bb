"""The one prompt template every variant shares.

The suite's system prompt, then whatever the variant adds (few-shot
demonstrations, retrieved references), then the item's own messages. Keeping it
in one place is what makes "same items, same template" true across variants.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class PromptTemplate:
    system_prompt: str

    def render(
        self, item_messages: list[dict], *, demonstrations: list[dict] | None = None, system_suffix: str = ""
    ) -> list[dict]:
        # An item's own system message (if the data has one) yields to the suite's,
        # so every variant sees the same instructions.
        turns = [m for m in item_messages if m["role"] != "system"]
        own_system = next((m["content"] for m in item_messages if m["role"] == "system"), "")
        system = (self.system_prompt or own_system) + system_suffix
        head = [{"role": "system", "content": system}] if system else []
        return head + list(demonstrations or []) + turns


def prompt_hash(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:16]
