"""Sign in with the API token once; the session cookie does the rest. Sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from pathway.services.accounts import NotSignedIn
from pathway.web.auth import CurrentUser, by_token, check_csrf, local_path, sign_in, sign_out
from pathway.web.templating import page

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", {"next": local_path(next), "error": None})


@router.post("/login")
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    await check_csrf(request)
    try:
        user = await run_in_threadpool(by_token, request, token)
    except NotSignedIn as exc:
        return page(request, "login.html", {"next": local_path(next), "error": str(exc)}, status_code=401)
    except HTTPException as exc:  # 429: too many failures from here
        refused = page(
            request, "login.html", {"next": local_path(next), "error": str(exc.detail)}, exc.status_code
        )
        refused.headers.update(exc.headers or {})
        return refused
    await run_in_threadpool(sign_in, request, user)
    return RedirectResponse(local_path(next), status_code=303)


@router.post("/logout")
def logout(request: Request, user: CurrentUser) -> Response:
    sign_out(request, user)
    return RedirectResponse("/login", status_code=303)
