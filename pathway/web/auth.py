"""Who is asking: a Bearer token (API) or the signed session cookie (pages), and the CSRF check.

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
from pathway.services import accounts
from pathway.services.accounts import NotSignedIn

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_USER, SESSION_CSRF, SESSION_FLASH = "user_id", "csrf", "flash"
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


def identify(request: Request) -> User:
    """The signed-in user (blocking: looks the token or the session's user up in the database)."""
    deps = deps_of(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedIn("send the header Authorization: Bearer <your API token>")
        return accounts.authenticate(deps, token)
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        raise NotSignedIn("sign in first: send Authorization: Bearer <your API token>, or sign in at /login")
    try:
        return accounts.signed_in(deps, user_id)
    except NotSignedIn:
        request.session.pop(SESSION_USER, None)
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
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    request.session.clear()


def flash(request: Request, kind: str, message: str) -> None:
    request.session[SESSION_FLASH] = [kind, message]


def take_flash(request: Request) -> tuple[str, str] | None:
    if "session" not in request.scope or SESSION_FLASH not in request.session:
        return None
    kind, message = request.session.pop(SESSION_FLASH)
    return str(kind), str(message)
