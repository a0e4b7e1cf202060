"""`Idempotency-Key` on every POST of the API: a retried request is answered, never done twice.

The first request with a key (per user) runs and its response (status, body, Location, ETag) is
stored with a hash of the request; the same key with the same request returns that response again
(`Idempotent-Replayed: true`) and records nothing; the same key with another request is refused
with 422; while the first is still running, 409. A response of 5xx is not kept (retry with the key).
Keys are kept for PATHWAY_IDEMPOTENCY_HOURS (24 by default).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any, cast

from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db import idempotency as store
from pathway.bootstrap import App
from pathway.domain.errors import PathwayError
from pathway.web.auth import identify
from pathway.web.schemas import PROBLEM

HEADER = "Idempotency-Key"
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the IETF draft's sf-string allows
KEPT_HEADERS = frozenset({"content-type", "location", "etag", "link"})


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "error": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def request_hash(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")):
        digest.update(part.encode() + b"\x00")
    digest.update(body)
    return digest.hexdigest()


class Idempotency:
    """Pure ASGI middleware, inside the session middleware (a signed-in page user has a session)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = Headers(scope=scope).get(HEADER) if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST" or not str(scope["path"]).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if not KEY.match(key):
            refused = _problem(
                422, "Unprocessable Content", f"header '{HEADER}' must be 1 to 255 visible ASCII characters"
            )
            await refused(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        replayed = False

        async def receive_again() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        application = cast(App, scope["app"].state.application)
        try:
            user = await run_in_threadpool(identify, request)
        except PathwayError:  # not signed in: the route answers 401 as usual
            await self.app(scope, receive_again, send)
            return
        engine, now = application.engine, application.deps.clock.now()
        keep = timedelta(hours=application.settings.idempotency_hours)
        digest = request_hash(scope, body)
        earlier = await run_in_threadpool(store.claim, engine, user.id, key, digest, now, keep)
        if earlier is not None:
            await self._answer_again(earlier, digest)(scope, receive, send)
            return
        await self._run_and_keep(scope, receive_again, send, application, user.id, key)

    @staticmethod
    def _answer_again(earlier: store.Stored, digest: str) -> Response:
        if earlier.request_hash != digest:
            return _problem(
                422,
                "Unprocessable Content",
                f"this {HEADER} was already used for a different request; use a new key for a new request",
            )
        if earlier.status is None:
            return _problem(
                409, "Conflict", f"the first request with this {HEADER} is still running; retry shortly"
            )
        response = Response(earlier.body, status_code=earlier.status)
        response.headers.update(dict(earlier.headers))
        response.headers["Idempotent-Replayed"] = "true"
        return response

    async def _run_and_keep(
        self, scope: Scope, receive: Receive, send: Send, application: App, user_id: int, key: str
    ) -> None:
        status: int | None = None
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers.extend(
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() in KEPT_HEADERS
                )
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
            await send(message)

        engine: Any = application.engine
        try:
            await self.app(scope, receive, keep)
        except BaseException:
            await run_in_threadpool(store.release, engine, user_id, key)
            raise
        if status is None or status >= 500:
            await run_in_threadpool(store.release, engine, user_id, key)
        else:
            await run_in_threadpool(store.complete, engine, user_id, key, status, headers, b"".join(chunks))


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the optional `Idempotency-Key` header on every POST of the API's OpenAPI document."""
    parameter = {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": "retry safely: the same key (per user) within the retention period returns "
        "the first answer and records nothing twice",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY.pattern},
    }
    for path, operations in schema.get("paths", {}).items():
        if path.startswith("/api/") and "post" in operations:
            operations["post"].setdefault("parameters", []).append(parameter)
    return schema
