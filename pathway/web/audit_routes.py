"""The audit trail for admins: /admin/audit (page) and /api/v1/audit (JSON); views recorded."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pathway.domain.clinical_time import parse_date, start_of_day
from pathway.domain.events import MRN_PATTERN
from pathway.ports import User
from pathway.services import audit
from pathway.services.accounts import USER_NAME
from pathway.web import schemas_views
from pathway.web.auth import deps_of, may
from pathway.web.templating import page

api = APIRouter(prefix="/audit", tags=["audit"])
pages = APIRouter(include_in_schema=False)
Admin = Annotated[User, may("manage_users")]
UserQ = Annotated[
    str | None, Query(max_length=64, pattern=USER_NAME.pattern + "|^$", description="Only this user's rows.")
]
MrnQ = Annotated[
    str | None,
    Query(max_length=64, pattern=MRN_PATTERN.pattern + "|^$", description="Only this patient's rows."),
]
SinceQ = Annotated[
    str | None,
    Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$", description="Only rows from this clinic date (YYYY-MM-DD) on."),
]
LimitQ = Annotated[int, Query(ge=1, le=audit.MAX_ROWS)]


def viewed(request: Request, user: User, mrn: str, what: str) -> None:
    """Record that the user read this patient's record (blocking: a short write)."""
    audit.record(deps_of(request), user.name, "view", mrn, what=what)


def _rows(request: Request, user: str | None, mrn: str | None, since: str | None, limit: int) -> list[Any]:
    deps = deps_of(request)
    start = start_of_day(parse_date(since, "since"), deps.zone) if since else None
    mrn = mrn.strip() if mrn else None
    return audit.find(deps, user or None, mrn or None, start, limit)


@api.get("", response_model=list[schemas_views.AuditEntryOut], operation_id="listAuditEntries")
def audit_api(
    request: Request,
    _: Admin,
    user: UserQ = None,
    mrn: MrnQ = None,
    since: SinceQ = None,
    limit: LimitQ = 500,
) -> Any:
    """Who did or viewed what, newest first (admins only)."""
    return [audit.as_json(e) for e in _rows(request, user, mrn, since, limit)]


@pages.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, _: Admin, user: UserQ = None, mrn: MrnQ = None, since: SinceQ = None
) -> HTMLResponse:
    entries = _rows(request, user, mrn, since, 500)
    return page(
        request,
        "audit.html",
        {"entries": entries, "filters": {"user": user or "", "mrn": mrn or "", "since": since or ""}},
    )
