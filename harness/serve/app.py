"""The HTTP layer: an OpenAI-compatible subset over an ``AdapterRegistry``.

    GET  /health                 liveness, the base model, the adapters, how often the adapter switched
    GET  /v1/models              the base and every adapter (adapters name the base as ``parent``, as vLLM does)
    POST /v1/chat/completions    one completion; ``model`` picks the adapter

Requests are validated strictly: an unknown field, a wrong role, ``n`` > 1 or
``stream: true`` is answered 400 with an OpenAI-style error that names the
field, rather than silently ignored. An unknown model is 404.

Limits keep one client from holding the model: the body size (413, checked in
serve/guard.py before anything is parsed), the number of messages, the prompt's
length in tokens, ``max_tokens``, and the seed's range (400). With an API key,
every request needs ``Authorization: Bearer <key>`` (401). ``/v1/models`` names
models, never the folders they were loaded from, and there is no /docs or
/redoc page (FastAPI's load their scripts from a CDN).
"""

from __future__ import annotations

import time
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.core.errors import BenchError, require
from harness.model.generate import encode_prompts
from harness.serve.adapters import AdapterRegistry
from harness.serve.completion import complete
from harness.serve.guard import Guard, error_body


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str | list[TextPart]
    name: str | None = None  # accepted for compatibility; chat templates have no place for it

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(part.text for part in self.content)


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1, description="newer OpenAI name for max_tokens")
    temperature: float = Field(default=0.0, ge=0, le=2, description="0: greedy, as bench evaluates")
    top_p: float = Field(default=1.0, gt=0, le=1)
    n: Literal[1] = Field(default=1, description="one choice per request")
    stream: Literal[False] = Field(default=False, description="streaming is not supported")
    stop: str | list[str] | None = Field(default=None, max_length=4, description="at most 4, as OpenAI")
    # torch seeds are 64-bit; a larger one would fail inside generation (a 500), so it is a 400 here.
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    user: str | None = None


def create_app(
    registry: AdapterRegistry,
    *,
    default_max_tokens: int = 256,
    max_tokens_limit: int = 2048,
    api_key: str | None = None,
    max_body_bytes: int = 1_000_000,
    max_messages: int = 64,
    max_prompt_tokens: int = 4096,
):
    fastapi = require("fastapi", feature="bench serve", package="bench-harness[serve]")
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    # No /docs or /redoc: FastAPI's pages load their scripts and styles from a CDN. /openapi.json stays.
    app = fastapi.FastAPI(title="bench serve", version="1", docs_url=None, redoc_url=None)
    app.add_middleware(Guard, api_key=api_key, max_body_bytes=max_body_bytes)
    started = int(time.time())
    stats = {"requests": 0}

    def error(status: int, message: str, *, param: str | None = None, code: str | None = None) -> JSONResponse:
        return JSONResponse(status_code=status, content=error_body(message, param=param, code=code))

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException) -> JSONResponse:
        # An unknown path, a wrong method, a body FastAPI could not read: the same error shape as the rest.
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, exc: RequestValidationError) -> JSONResponse:
        problems = [_describe(e) for e in exc.errors()]
        first = exc.errors()[0] if exc.errors() else {}
        param = _location(first) if first.get("type") != "json_invalid" else None
        return error(400, "invalid request: " + "; ".join(problems), param=param or None)

    @app.get("/health")
    def health() -> dict:
        return {
            "status": "ok",
            "base_model": registry.base_name if registry.base is not None else None,
            "adapters": list(registry.adapters),
            "classical": list(registry.classical),
            "adapter_switches": registry.switches,
            "requests_served": stats["requests"],
            "warnings": registry.warnings,
        }

    @app.get("/v1/models")
    def models() -> dict:
        data = (
            [
                {
                    "id": registry.base_name,
                    "object": "model",
                    "created": started,
                    "owned_by": "bench",
                    "root": registry.base_name,  # never the folder it was loaded from
                    "parent": None,
                }
            ]
            if registry.base is not None
            else []
        )
        data += [
            {
                "id": name,
                "object": "model",
                "created": started,
                "owned_by": "bench",
                "root": name,
                "parent": registry.base_name,
            }
            for name, info in registry.adapters.items()
        ]
        # A classical package stands alone: no base model under it.
        data += [
            {
                "id": name,
                "object": "model",
                "created": started,
                "owned_by": "bench",
                "root": name,
                "parent": None,
            }
            for name, served in registry.classical.items()
        ]
        return {"object": "list", "data": data}

    # A plain (sync) handler: FastAPI runs it in a worker thread, so a long
    # generation does not block /health; the registry's lock orders generations.
    @app.post("/v1/chat/completions")
    def chat_completions(request: ChatCompletionRequest):
        if request.model not in registry.names():
            return error(
                404,
                f"model '{request.model}' is not served here; available: {', '.join(registry.names())}",
                param="model",
                code="model_not_found",
            )
        # A request that names no max_tokens gets the default, within this server's limit.
        max_tokens = request.max_completion_tokens or request.max_tokens or min(default_max_tokens, max_tokens_limit)
        if max_tokens > max_tokens_limit:
            return error(
                400, f"max_tokens is {max_tokens}; this server allows at most {max_tokens_limit}", param="max_tokens"
            )
        if len(request.messages) > max_messages:
            return error(
                400,
                f"the request has {len(request.messages)} messages; this server allows at most {max_messages}",
                param="messages",
            )
        stop = [request.stop] if isinstance(request.stop, str) else request.stop
        messages = [{"role": m.role, "content": m.text()} for m in request.messages]
        if request.model not in registry.classical:
            # Counted before taking the model's lock, so a long prompt never makes the others wait.
            prompt_tokens = len(encode_prompts(registry.base.tokenizer, [messages])[0])
            if prompt_tokens > max_prompt_tokens:
                return error(
                    400,
                    f"the prompt is {prompt_tokens} tokens; this server allows at most {max_prompt_tokens}",
                    param="messages",
                    code="context_length_exceeded",
                )
        if request.model in registry.classical:  # the answer format with the predicted label; sampling does not apply
            try:
                result = registry.classical[request.model].complete(messages)
            except BenchError as exc:
                return error(400, str(exc), param="messages")
        else:
            with registry.use(request.model) as model:
                result = complete(
                    model,
                    registry.base.tokenizer,
                    messages,
                    max_tokens=max_tokens,
                    temperature=request.temperature,
                    top_p=request.top_p,
                    seed=request.seed,
                    stop=stop,
                )
        stats["requests"] += 1
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.text},
                    "finish_reason": result.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "total_tokens": result.prompt_tokens + result.completion_tokens,
            },
        }

    return app


def _location(problem: dict) -> str:
    # FastAPI prefixes body fields with "body"; clients know them without it.
    parts = [str(p) for p in problem.get("loc", ()) if p != "body"]
    return ".".join(parts)


UNSUPPORTED = {
    "stream": "streaming is not supported; leave stream out or send false",
    "n": "only one choice per request is supported (n: 1)",
}


def _describe(problem: dict) -> str:
    where = _location(problem)
    message = problem.get("msg", "invalid")
    if problem.get("type") == "json_invalid":
        return (
            f"the body is not valid JSON ({(problem.get('ctx') or {}).get('error', 'parse error')} at position {where})"
        )
    if problem.get("type") == "extra_forbidden":
        message = "unknown field (not supported by this server)"
    elif where in UNSUPPORTED:
        message = UNSUPPORTED[where]
    return f"{where}: {message}" if where else message
