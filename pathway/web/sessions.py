"""Web sessions (server-side; the signed cookie carries the session id and the form token only),
the request body cap, and the client address for the audit trail.

`BodyLimit` refuses a body larger than `max_bytes` before the application reads it: at once from
its Content-Length, or, when it is streamed (chunked), as soon as the bytes received pass the cap
(it reads at most `max_bytes` + one chunk into memory). The answer is 413 problem+json.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pathway.services import audit

PROBLEM = "application/problem+json"


class BodyLimit:
    """Pure ASGI middleware capping every request body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length = headers.get(b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await self._refuse(send, 400, "Content-Length is not a number")
                return
            if int(length) > self.max_bytes:
                await self._refuse(send, 413, self._message())
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS") and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        # streamed: read up to the cap before the application sees a byte, then replay
        chunks: list[Message] = []
        total = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > self.max_bytes:
                await self._refuse(send, 413, self._message())
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, receive), send)

    def _message(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes (PATHWAY_MAX_BODY_BYTES)"

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        title = "Content Too Large" if status == 413 else "Bad Request"
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": message, "error": message}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(chunks: list[Message], receive: Receive) -> Callable[[], Awaitable[Message]]:
    pending = list(chunks)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


@dataclass
class ClientOrigin:
    """Pure ASGI middleware: the client address of this request, for the audit trail."""

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = audit.ORIGIN.set(client_address(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            audit.ORIGIN.reset(token)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
