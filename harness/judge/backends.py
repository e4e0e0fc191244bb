"""Where the judge's replies come from: an OpenAI-compatible endpoint, or a local model.

Both answer ``ask(conversations) -> replies`` for a batch, greedy (temperature 0),
and say who they are (``identity``) for the cache key. The endpoint's key comes
from the environment variable the suite names, read when the judge is built and
never recorded anywhere.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Protocol

from harness.core.errors import BenchError, require
from harness.suite.judge_spec import JudgeSpec


class Judge(Protocol):
    requests: int  # replies asked of the judge itself (cache hits excluded)

    def identity(self) -> dict: ...

    def ask(self, conversations: list[list[dict]], on_batch: Callable[[int], None] | None = None) -> list[str]: ...


class HttpJudge:
    """Chat completions at ``endpoint``/chat/completions; a few requests in flight, so a batching server batches."""

    def __init__(
        self, endpoint: str, model: str, *, api_key: str | None, max_tokens: int, timeout_s: float, parallel: int = 4
    ):
        self.endpoint, self.model, self.max_tokens = endpoint, model, max_tokens
        self.api_key, self.timeout_s, self.parallel = api_key, timeout_s, parallel
        self.requests = 0

    def identity(self) -> dict:
        return {"endpoint": self.endpoint, "model": self.model, "max_tokens": self.max_tokens}

    def ask(self, conversations: list[list[dict]], on_batch: Callable[[int], None] | None = None) -> list[str]:
        httpx = require("httpx", feature="a judge behind an endpoint")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        with httpx.Client(base_url=self.endpoint, headers=headers, timeout=self.timeout_s) as client:

            def one(messages: list[dict]) -> str:
                body = {"model": self.model, "messages": messages, "max_tokens": self.max_tokens, "temperature": 0}
                try:
                    response = client.post("/chat/completions", json=body)
                except httpx.HTTPError as exc:
                    raise BenchError(
                        f"the judge at {self.endpoint} could not be reached: {type(exc).__name__}: {exc}",
                        hint="start the judge server first, or fix judge.endpoint in the suite",
                    ) from None
                self.requests += 1
                if response.status_code != 200:
                    raise BenchError(
                        f"the judge at {self.endpoint} answered {response.status_code}: {response.text[:300]}",
                        hint="check judge.model and the key in the variable named by judge.api_key_env",
                    )
                try:
                    return str(response.json()["choices"][0]["message"]["content"] or "")
                except (ValueError, KeyError, IndexError, TypeError):
                    raise BenchError(
                        f"the judge at {self.endpoint} did not answer as an OpenAI-compatible chat API: "
                        f"{response.text[:300]}"
                    ) from None

            with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                replies = []
                for reply in pool.map(one, conversations):
                    replies.append(reply)
                    if on_batch:
                        on_batch(1)
        return replies


class LocalJudge:
    """A model loaded with bench's own loader and driven by its batched greedy generation."""

    def __init__(self, model_path: str, *, max_tokens: int, batch_size: int = 8):
        from harness.model.fingerprint import weights_fingerprint
        from harness.model.loading import load_base

        self.base = load_base(model_path)
        self.model_path, self.max_tokens, self.batch_size = model_path, max_tokens, batch_size
        self.fingerprint = weights_fingerprint(self.base.source)
        self.requests = 0

    def identity(self) -> dict:
        return {"model_files": self.fingerprint, "max_tokens": self.max_tokens}

    def ask(self, conversations: list[list[dict]], on_batch: Callable[[int], None] | None = None) -> list[str]:
        from harness.model.generate import generate

        generations = generate(
            self.base.model,
            self.base.tokenizer,
            conversations,
            batch_size=self.batch_size,
            max_new_tokens=self.max_tokens,
            on_batch=on_batch,
        )
        self.requests += len(conversations)
        return [g.text for g in generations]


def judge_from_spec(spec: JudgeSpec) -> Judge:
    if spec.model_path is not None:
        return LocalJudge(spec.model_path, max_tokens=spec.max_tokens)
    api_key = None
    if spec.api_key_env:
        api_key = os.environ.get(spec.api_key_env)
        if not api_key:
            raise BenchError(
                f"judge.api_key_env names {spec.api_key_env}, which is not set in the environment",
                hint=f"export {spec.api_key_env}=<key> before bench run",
            )
    return HttpJudge(spec.endpoint, spec.model, api_key=api_key, max_tokens=spec.max_tokens, timeout_s=spec.timeout_s)
