"""The one place where errors become responses: JSON `{"error": ...}` for the API, pages otherwise.

Pages: not signed in → the sign-in page; a refused form → back to the page it came from with the
message on top; anything else → an error page with the message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException

from db.busy import busy_error
from pathway.bootstrap import DatabaseNotReady
from pathway.domain.errors import (
    Busy,
    Conflict,
    DefinitionError,
    EventNotAllowed,
    GuardRefused,
    InvalidInput,
    NotFound,
    PathwayError,
    PermissionDenied,
    PossibleDuplicate,
)
from pathway.services.accounts import NotSignedIn
from pathway.web.auth import flash
from pathway.web.observe import route_template
from pathway.web.preconditions import PreconditionFailed
from pathway.web.schemas import PROBLEM
from pathway.web.security import CSP, HEADERS
from pathway.web.templating import page

log = logging.getLogger("pathway.web")
RETRY_AFTER_SECONDS = 5
STATUS: tuple[tuple[type[PathwayError], int], ...] = (
    (NotSignedIn, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (PreconditionFailed, 412),
    (Busy, 503),
    (Conflict, 409),
    (PossibleDuplicate, 409),
    (GuardRefused, 422),
    (EventNotAllowed, 409),
    (InvalidInput, 422),
    (DefinitionError, 500),
    (DatabaseNotReady, 503),
)
WHERE = {
    "body": "field",
    "query": "query parameter",
    "path": "path parameter",
    "header": "header",
    "cookie": "cookie",
}
HTTP_MESSAGES = {404: "there is no such page or API route", 405: "this method is not allowed here"}


def status_for(exc: PathwayError) -> int:
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 400)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def readable(errors: Sequence[Any]) -> str:
    """FastAPI's validation errors as one sentence a person understands."""
    parts = []
    for err in errors[:4]:
        loc = [str(p) for p in err.get("loc", ())]
        kind = WHERE.get(loc[0], "") if loc else ""
        name = ".".join(loc[1:])
        if err.get("type") == "json_invalid":
            parts.append(f"the body is not valid JSON ({err.get('ctx', {}).get('error', '')})")
        elif err.get("type") == "missing" and not name:
            parts.append("the request needs a JSON body")
        else:
            msg = str(err.get("msg", "is not valid")).replace("Value error, ", "")
            parts.append(f"{kind} '{name}': {msg}" if name else msg)
    more = f" (and {len(errors) - 4} more)" if len(errors) > 4 else ""
    return "; ".join(parts) + more


def problem(status: int, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """An RFC 9457 problem: `detail` is the one-line message (also as `error`, as before)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
        "error": message,
    }
    if fields:
        body["errors"] = fields
    return body


def respond(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    fields: list[dict[str, str]] | None = None,
) -> Response:
    if is_api(request):
        extra = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        return JSONResponse(
            problem(status, message, fields),
            status_code=status,
            headers={**(headers or {}), **extra},
            media_type=PROBLEM,
        )
    back = getattr(request.state, "back", None)
    if status == 401:
        target = back or request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if request.method == "POST" and back:
        flash(request, "error", message)
        return RedirectResponse(back, status_code=303)
    return page(request, "error.html", {"status": status, "message": message}, status_code=status)


async def on_pathway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PathwayError)
    status = status_for(exc)
    if isinstance(exc, Busy):
        log.warning("database busy on %s %s", request.method, request.url.path)
        return respond(request, 503, str(exc), {"Retry-After": str(RETRY_AFTER_SECONDS)})
    if status >= 500:
        log.error("%s: %s", type(exc).__name__, exc)
    return respond(request, status, str(exc))


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "location": ".".join(str(part) for part in err.get("loc", ())),
            "message": str(err.get("msg", "is not valid")).replace("Value error, ", ""),
        }
        for err in exc.errors()
    ]
    return respond(request, 422, readable(exc.errors()), fields=fields)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return respond(request, exc.status_code, detail, headers)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the routes of this path accept (Starlette names only the first route's).

    Only the most specific templates count: `/patients/{mrn:path}` also matches
    `/patients/X/bookings`, whose own route is the resource meant."""
    by_literal: dict[int, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and route.methods and regex.match(path):
            literal = len(re.sub(r"\{[^}]*\}", "", getattr(route, "path", "")))
            by_literal.setdefault(literal, set()).update(route.methods)
    return sorted(by_literal[max(by_literal)]) if by_literal else []


async def on_internal_error(request: Request, exc: Exception) -> Response:
    """Runs outside the other middleware (Starlette's ServerErrorMiddleware): add the headers here."""
    busy = busy_error(exc)
    if busy is not None:  # a lock wait ran out outside a unit of work (a sign-in, a schema check)
        response = await on_pathway_error(request, Busy(str(busy)))
        response.headers.update({**HEADERS, "Content-Security-Policy": CSP, "Cache-Control": "no-store"})
        return response
    templates = getattr(request.app.state, "route_templates", {})
    log.exception("internal error on %s %s", request.method, route_template(request.scope, templates))
    response = respond(
        request,
        500,
        "internal error: nothing was saved; the server log has the details for the administrator",
    )
    response.headers.update({**HEADERS, "Content-Security-Policy": CSP, "Cache-Control": "no-store"})
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(PathwayError, on_pathway_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_internal_error)
