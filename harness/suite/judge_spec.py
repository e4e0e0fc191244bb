"""The suite's ``judge:`` block: model-graded scoring of generation outputs (harness/judge runs it).

    judge:
      endpoint: http://127.0.0.1:8000/v1   # any OpenAI-compatible server: vLLM, `bench serve`, a hosted API
      model: judge-model-name
      api_key_env: JUDGE_API_KEY          # the key is read from this environment variable, never from the suite
      mode: rubric                        # or pairwise, against reference: <variant>
      rubric: "Is the rewrite faithful to the note and plain?"
      scale: [1, 5]

or ``model_path:`` (an alias or a model folder) instead of ``endpoint``/``model`` for a local judge.

A literal key in the suite is refused: a suite is shared, committed and read by CI
(docs/security.md), so the only way to give a key is by naming the variable holding it.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from harness.core.config import Strict

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
KEY_REFUSED = (
    "a literal API key in the suite is refused (suites are shared and committed); put the key in an environment "
    "variable and name it with api_key_env: NAME"
)


class JudgeSpec(Strict):
    endpoint: str | None = Field(
        default=None, description="base URL of an OpenAI-compatible API (…/v1); /chat/completions is appended"
    )
    model: str | None = Field(default=None, description="the judge's model name at the endpoint")
    api_key_env: str | None = Field(
        default=None, description="name of the environment variable holding the endpoint's key (sent as a bearer)"
    )
    api_key: Any = Field(default=None, exclude=True, description="refused: name a variable with api_key_env instead")
    model_path: str | None = Field(
        default=None, description="a local judge instead of an endpoint: a model alias or folder (safetensors)"
    )
    mode: Literal["rubric", "pairwise"] = Field(
        default="rubric",
        description="rubric: each output graded on the scale; pairwise: each output against the reference "
        "variant's, asked in both orders",
    )
    rubric: str = Field(
        default="",
        description="rubric: what a good answer is, graded on the scale; pairwise: what makes one answer better",
    )
    scale: tuple[int, int] = Field(default=(1, 5), description="the lowest and highest grade; normalised to 0-1")
    reference: str | None = Field(default=None, description="pairwise: the variant every other one is compared with")
    with_reference_answer: bool = Field(default=False, description="also show the judge the item's reference answer")
    human_grades: str | None = Field(
        default=None,
        description="JSONL of {item_id, variant, grade} graded by a person (grade: a number on the scale, or "
        "pass/fail); the report gives the judge's agreement with it",
    )
    pass_mark: float = Field(
        default=0.5, ge=0, le=1, description="a normalised judge score at least this counts as a pass (human pass/fail)"
    )
    max_tokens: int = Field(default=8, ge=1, le=256, description="longest judge reply read; replies are one token-ish")
    timeout_s: float = Field(default=120, gt=0, le=3600)

    @field_validator("api_key")
    @classmethod
    def no_literal_key(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(KEY_REFUSED)
        return None

    @field_validator("api_key_env")
    @classmethod
    def a_variable_name(cls, value: str | None) -> str | None:
        # A value that is not a variable name is most likely the key itself, pasted into the wrong field.
        if value is not None and not ENV_NAME.match(value):
            raise ValueError("not an environment variable name; " + KEY_REFUSED)
        return value

    @field_validator("endpoint")
    @classmethod
    def plain_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL, e.g. http://127.0.0.1:8000/v1")
        if parts.username or parts.password or parts.query:
            raise ValueError("credentials or a query in the URL are refused; " + KEY_REFUSED)
        return value.rstrip("/")

    @model_validator(mode="after")
    def one_judge(self):
        if (self.endpoint is None) == (self.model_path is None):
            raise ValueError("name one judge: endpoint (with model) for a served judge, or model_path for a local one")
        if self.endpoint is not None and not self.model:
            raise ValueError("endpoint needs model: the judge's model name at that endpoint")
        if self.model_path is not None and (self.model or self.api_key_env):
            raise ValueError("model and api_key_env go with endpoint, not with model_path")
        low, high = self.scale
        if self.mode == "rubric" and not (low < high and high - low <= 100):
            raise ValueError(f"scale must be [low, high] with low < high (at most 100 apart), not {list(self.scale)}")
        if self.mode == "rubric" and not self.rubric.strip():
            raise ValueError("mode: rubric needs rubric: the text the judge grades against")
        if self.mode == "pairwise" and not self.reference:
            raise ValueError("mode: pairwise needs reference: the variant every other one is compared with")
        return self
