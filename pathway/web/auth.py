"""Who is asking: a Bearer token (API) or the session (pages), and the CSRF check.

The signed cookie carries the session's random id (kept server-side, see services/sessions.py),
its CSRF token and a one-off message; never the user. Failed sign-ins are throttled per client
address (and per account when the token is one of a revoked or expired account) and audited.

Requests authenticated by the session cookie must prove they come from our own pages when they
change something: a per-session CSRF token, in the form field `csrf_token` or the header
`X-CSRF-Token`. Bearer requests need none (a browser never adds that header by itself).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from pathway.domain.errors import PermissionDenied
from pathway.ports import Deps, User
from pathway.services import accounts, audit, sessions
from pathway.services.accounts import NotSignedIn
from pathway.web.sessions import client_address
from pathway.web.throttle import Throttle

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_ID, SESSION_CSRF, SESSION_FLASH = "sid", "csrf", "flash"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfRefused(PermissionDenied):
    """A state-changing request from a session without this session's CSRF token."""


def deps_of(request: Request) -> Deps:
    return cast(Deps, request.app.state.deps)


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def local_path(value: object, default: str = "/") -> str:
    """A path on this site (never another host), for redirects after a form."""
    text = value if isinstance(value, str) else ""
    unsafe = text.startswith("//") or "\\" in text or any(c.isspace() or ord(c) < 32 for c in text)
    return text if text.startswith("/") and not unsafe else default


async def check_csrf(request: Request) -> None:
    sent: Any = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        sent = form.get("csrf_token")
        request.state.back = local_path(form.get("back"), default="") or None
    expected = request.session.get(SESSION_CSRF)
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and secrets.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfRefused(
            "this form has expired or did not come from this site; reload the page and try again"
        )


def throttle_of(request: Request) -> Throttle:
    return cast(Throttle, request.app.state.throttle)


def by_token(request: Request, token: str) -> User:
    """The user holding this token, throttled per address; failures are audited (blocking)."""
    deps, throttle = deps_of(request), throttle_of(request)
    address = "addr:" + client_address(request.scope)
    throttle.check(address)
    try:
        user = accounts.authenticate(deps, token)
    except NotSignedIn:
        holder = accounts.holder_of(deps, token)
        keys = (address, f"user:{holder}") if holder else (address,)
        throttle.failed(*keys)
        audit.record(deps, holder or "?", "sign_in_failed", None, via=request.url.path[:100])
        raise
    throttle.check(f"user:{user.name}")
    throttle.succeeded(address, f"user:{user.name}")
    return user


def identify(request: Request) -> User:
    """The signed-in user (blocking: looks the token or the session up in the database)."""
    deps = deps_of(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedIn("send the header Authorization: Bearer <your API token>")
        return by_token(request, token)
    session_id = request.session.get(SESSION_ID)
    if not isinstance(session_id, str):
        raise NotSignedIn("sign in first: send Authorization: Bearer <your API token>, or sign in at /login")
    try:
        return sessions.user_of(deps, session_id, cast(sessions.Lifetimes, request.app.state.lifetimes))
    except NotSignedIn:
        request.session.pop(SESSION_ID, None)
        raise


async def current_user(request: Request) -> User:
    user = await run_in_threadpool(identify, request)
    request.state.user = user
    if request.method not in SAFE_METHODS and "authorization" not in request.headers:
        await check_csrf(request)
    return user


def may(action: str) -> Any:
    """`Annotated[User, may("record")]`: the current user, if their role allows the action."""

    async def allowed(user: Annotated[User, Depends(current_user)]) -> User:
        accounts.require(user, action)
        return user

    allowed.__name__ = f"may_{action}"
    return Depends(allowed)


CurrentUser = Annotated[User, Depends(current_user)]


def sign_in(request: Request, user: User) -> None:
    """A new server-side session (blocking); the cookie gets its id and a fresh CSRF token."""
    session_id = sessions.begin(deps_of(request), user)
    request.session.clear()
    request.session[SESSION_ID] = session_id
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def sign_out(request: Request, user: User) -> None:
    """End the session server-side (blocking): the old cookie is worth nothing afterwards."""
    session_id = request.session.get(SESSION_ID)
    if isinstance(session_id, str):
        sessions.end(deps_of(request), session_id, user)
    request.session.clear()


def flash(request: Request, kind: str, message: str) -> None:
    request.session[SESSION_FLASH] = [kind, message]


def take_flash(request: Request) -> tuple[str, str] | None:
    if "session" not in request.scope or SESSION_FLASH not in request.session:
        return None
    kind, message = request.session.pop(SESSION_FLASH)
    return str(kind), str(message)
