"""One middleware for what operators see of each request: latency by route template, an access log
line without patient data, and a request id.

The access line names the route template (`GET /patients/{mrn} 200`), never the path: paths carry
MRNs. Query strings are left out for the same reason.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from prometheus_client import Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pathway.logs import request_id

access = logging.getLogger("pathway.access")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CONVERTER = re.compile(r"{(\w+):\w+}")


def templates_of(app: FastAPI) -> dict[int, str]:
    """Each route's full template by route object (an included router's route knows only its tail)."""
    return {
        id(context.original_route): _CONVERTER.sub(r"{\1}", context.path)
        for context in iter_route_contexts(app.routes)
        if context.path
    }


def route_template(scope: Scope, templates: dict[int, str]) -> str:
    """The matched route's template (`/api/v1/patients/{mrn}`); `/static` for assets; else `unmatched`."""
    route = scope.get("route")
    if route is not None and id(route) in templates:
        return templates[id(route)]
    if str(scope.get("path", "")).startswith("/static/"):
        return "/static"
    return "unmatched"


class Observe:
    """Pure ASGI middleware (no body buffering)."""

    def __init__(self, app: ASGIApp, latency: Histogram, templates: dict[int, str]) -> None:
        self.app = app
        self.latency = latency
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = sent if _GOOD_ID.match(sent) else uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            route = route_template(scope, self.templates)
            method = str(scope.get("method", ""))
            self.latency.labels(method, route, str(status)).observe(seconds)
            client = scope.get("client")
            access.info(
                '%s - "%s %s" %d %.1fms',
                client[0] if client else "-",
                method,
                route,
                status,
                seconds * 1000,
            )
            request_id.reset(token)
