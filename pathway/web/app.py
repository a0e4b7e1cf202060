"""The FastAPI application: JSON API under /api/v1, server-rendered pages, static assets.

Every route needs a signed-in user except the sign-in page and /static. The OpenAPI document
(/openapi.json) is served to signed-in users only; there is no Swagger UI (it would need a CDN).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from starlette.middleware.sessions import SessionMiddleware

import pathway
from pathway.bootstrap import App, build
from pathway.interop.fhir_common import Site
from pathway.services.sessions import Lifetimes
from pathway.web import (
    api_care,
    api_caseload,
    api_pathway,
    api_patients,
    api_users,
    audit_routes,
    errors,
    idempotency,
    interop_routes,
    ops,
    pages_auth,
    pages_caseload,
    pages_pathway,
    pages_patient,
    pages_worklist,
)
from pathway.web.auth import CurrentUser
from pathway.web.idempotency import Idempotency
from pathway.web.observe import Observe, templates_of
from pathway.web.schemas import ERRORS
from pathway.web.security import SecurityHeaders
from pathway.web.sessions import BodyLimit, ClientOrigin
from pathway.web.throttle import Throttle

log = logging.getLogger("pathway.web")


def create_app(application: App, secret_key: str | None = None, secure_cookies: bool = False) -> FastAPI:
    """The web app over the same services as the CLI.

    The session cookie is signed with `secret_key`, by default the one from the environment
    (`App.session_secret`: PATHWAY_SESSION_SECRET or its file; never the database).
    """
    deps = application.deps
    if secret_key is None:
        secret_key, warning = application.session_secret()
        if warning:
            log.warning("%s", warning)
    app = FastAPI(
        title="Sacral pathway API",
        version=pathway.__version__,
        description="Care-pathway engine: decision support for clinicians, not a "
        "substitute for clinical judgement. Authenticate with "
        "`Authorization: Bearer <token>` (`pathway users add`).",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.deps = deps
    settings = application.settings
    app.state.interop = interop_routes.InteropSettings(
        site=Site(mrn_system=settings.fhir_mrn_system),
        calendar_show_patient=settings.calendar_show_patient,
        calendar_days=settings.calendar_days,
    )
    app.state.application = application
    app.state.lifetimes = Lifetimes(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_hours),
    )
    app.state.throttle = Throttle(
        deps.clock, settings.signin_max_failures, timedelta(minutes=settings.signin_lock_minutes)
    )
    app.state.metrics = CollectorRegistry()
    latency = ops.install(app.state.metrics, application)
    errors.install(app)
    api = APIRouter(prefix="/api/v1", responses=ERRORS)
    api.include_router(interop_routes.api)  # before api_patients: /patients/{mrn:path} takes the rest
    api.include_router(api_caseload.router)
    for module in (api_patients, api_care, api_pathway, api_users, audit_routes):
        api.include_router(module.api if module is audit_routes else module.router)
    app.include_router(api)
    app.include_router(interop_routes.feeds)

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = idempotency.document(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: CurrentUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    app.include_router(ops.router)
    for pages in (pages_auth, pages_worklist, pages_caseload, pages_patient, pages_pathway):
        app.include_router(pages.router)
    app.include_router(audit_routes.pages)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(Idempotency)  # innermost: inside the session, so page users are known
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie="pathway_session",
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=secure_cookies,
    )
    app.add_middleware(ClientOrigin)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # before anything reads the body
    app.add_middleware(SecurityHeaders)
    app.state.route_templates = templates_of(app)
    app.add_middleware(Observe, latency=latency, templates=app.state.route_templates)
    return app


def from_environment() -> FastAPI:
    """The app as `pathway serve` runs it (uvicorn factory): settings from PATHWAY_* variables."""
    application = build()
    application.check_schema()
    settings = application.settings
    return create_app(application, secure_cookies=settings.secure_cookies)
