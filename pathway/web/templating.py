"""Jinja2 templates with what every page needs: the user, the CSRF token, the flash message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pathway.web import fmt
from pathway.web.auth import csrf_token, deps_of, take_flash


def _common(request: Request) -> dict[str, Any]:
    has_session = "session" in request.scope
    query = request.url.query
    return {
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request) if has_session else "",
        "flash": take_flash(request) if has_session else None,
        "here": request.url.path + (f"?{query}" if query else ""),
        "zone": deps_of(request).zone,
    }


templates = Jinja2Templates(directory=Path(__file__).parent / "templates", context_processors=[_common])
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
templates.env.filters["words"] = fmt.words


def show_names(request: Request) -> bool:
    """PATHWAY_SHOW_NAMES=false: screens in public places show no patient names."""
    application = getattr(request.app.state, "application", None)
    return bool(application.settings.show_names) if application is not None else True


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    context = {"show_names": show_names(request), **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)
