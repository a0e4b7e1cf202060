"""/api/v1/worklist and /api/v1/alerts: what to act on, and acting on alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from pathway.domain.alert_status import STATUS_FILTERS, Severity
from pathway.ports import User
from pathway.services import alerting, caseload, patients
from pathway.web import paging, present, schemas
from pathway.web.auth import CurrentUser, deps_of, may
from pathway.web.paging import DEFAULT_LIMIT, Cursor, Limit
from pathway.web.schemas import AlertId, ClinicDate

MRN = patients.MRN_PATTERN.pattern
router = APIRouter(tags=["worklist and alerts"])
STATUS = "^(" + "|".join(STATUS_FILTERS) + ")$"


@router.get("/worklist", response_model=schemas.WorklistOut, operation_id="getWorklist")
def worklist(
    request: Request,
    user: CurrentUser,
    as_of: ClinicDate | None = None,
    within: Annotated[int | None, Query(ge=0, le=366)] = None,
    severity: Severity | None = None,
    mine: Annotated[bool, Query(description="only the signed-in user's caseload")] = False,
    team: Annotated[str | None, Query(max_length=64, description="only this care team's patients")] = None,
) -> Any:
    """Overdue, due and soon-due steps and open alerts, most urgent first (as `pathway due`)."""
    deps = deps_of(request)
    scope = caseload.caseload(deps, user.name if mine else None, team).mrns if mine or team else None
    return present.worklist(alerting.worklist(deps, as_of, within, severity, None, scope), deps.zone)


@router.get("/alerts", response_model=list[schemas.AlertOut], operation_id="listAlerts")
def alerts(
    request: Request,
    response: Response,
    _: CurrentUser,
    status: Annotated[str | None, Query(pattern=STATUS, description=", ".join(STATUS_FILTERS))] = None,
    mrn: Annotated[str | None, Query(max_length=64, pattern=MRN)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """Alerts a page at a time (pages by id; the next page in the `Link` header), each page most
    urgent first."""
    deps = deps_of(request)
    last = paging.decode("alerts", cursor, int)
    rows = alerting.list_alerts(deps, status, mrn, after=last, limit=limit + 1)
    shown = alerting.by_urgency(
        deps, list(paging.page(request, response, "alerts", rows, limit, lambda r: r[0].id))
    )
    dead = alerting.undelivered_alert_ids(deps)
    return [present.alert(a, m, dead) for a, m in shown]


@router.post(
    "/alerts/{alert_id}/acknowledge", response_model=schemas.AlertOut, operation_id="acknowledgeAlert"
)
def acknowledge(
    request: Request,
    alert_id: AlertId,
    user: Annotated[User, may("acknowledge")],
    body: schemas.AcknowledgeIn | None = None,
) -> Any:
    return present.alert(
        alerting.acknowledge(
            deps_of(request),
            alert_id,
            user.name,
            body.note if body else None,
            role=user.role,
            handling=body.handling if body else None,
        )
    )


@router.post("/alerts/{alert_id}/snooze", response_model=schemas.AlertOut, operation_id="snoozeAlert")
def snooze(
    request: Request, alert_id: AlertId, body: schemas.SnoozeIn, user: Annotated[User, may("snooze")]
) -> Any:
    return present.alert(
        alerting.snooze(deps_of(request), alert_id, body.until, user.name, body.note, role=user.role)
    )


@router.post("/alerts/{alert_id}/override", response_model=schemas.AlertOut, operation_id="overrideAlert")
def override(
    request: Request, alert_id: AlertId, body: schemas.OverrideIn, user: Annotated[User, may("override")]
) -> Any:
    """Critical alerts may be overridden only by a clinician (or an admin)."""
    return present.alert(
        alerting.override(
            deps_of(request), alert_id, body.reason, body.note, user.name, role=user.role, until=body.until
        )
    )
