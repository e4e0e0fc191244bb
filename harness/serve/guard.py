"""What stands in front of the app: the API key and the body size limit, as one ASGI middleware.

Both are checked before FastAPI sees the request, so an unauthenticated client
cannot make the server buffer or parse anything, and an oversized body is
refused (413) after reading at most ``max_body_bytes`` of it, whether it
announced its length or arrived in chunks. Errors have OpenAI's shape, like
every other error of the server.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

API_KEY_ENV = "BENCH_API_KEY"


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def error_body(message: str, *, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


class Guard:
    """ASGI middleware: ``Authorization: Bearer <api_key>`` on every request (when a key is set),
    then a request body of at most ``max_body_bytes``."""

    def __init__(self, app, *, api_key: str | None, max_body_bytes: int):
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        if self.api_key is not None and not self._authorised(headers.get(b"authorization", b"")):
            await _respond(
                send,
                401,
                error_body(
                    "missing or wrong API key: send the header 'Authorization: Bearer <key>'", code="invalid_api_key"
                ),
                extra_headers=[(b"www-authenticate", b'Bearer realm="bench serve"')],
            )
            return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _respond(send, 413, self._too_large())
            return
        # Read the body here, up to the limit, and hand it on whole: a chunked body has no length to check.
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await _respond(send, 413, self._too_large())
                return
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the client to disconnect, as the server would

        await self.app(scope, replay, send)

    def _authorised(self, header: bytes) -> bool:
        scheme, _, token = header.partition(b" ")
        # Constant time: the comparison must not tell an attacker how much of a guess was right.
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.api_key)

    def _too_large(self) -> dict:
        return error_body(
            f"request body is larger than this server's limit of {self.max_body_bytes} bytes", code="body_too_large"
        )


async def _respond(send, status: int, content: dict, *, extra_headers: list | None = None) -> None:
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])})
    await send({"type": "http.response.body", "body": body})
