"""/api/v1/patients/{mrn}/assignment and /bookings: the patient's care team and coordinator, and
booking an open follow-up (the web forms post to the same services)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from pathway.domain.errors import StaleVersion
from pathway.ports import Assignment, User
from pathway.services import bookings, caseload, patients
from pathway.web import present, schemas
from pathway.web.api_patients import Mrn
from pathway.web.auth import CurrentUser, deps_of, may
from pathway.web.preconditions import ETAG_HEADER, PRECONDITION_FAILED, IfMatch, PreconditionFailed, set_etag

router = APIRouter(prefix="/patients", tags=["patients"])
Assigner = Annotated[User, may("assign")]
Recorder = Annotated[User, may("record")]


def _out(mrn: str, a: Assignment) -> schemas.AssignmentOut:
    return schemas.AssignmentOut(
        mrn=mrn, team=a.team, coordinator=a.coordinator, assigned_at=a.assigned_at, assigned_by=a.assigned_by
    )


def _check_version(request: Request, mrn: str, if_match: IfMatch) -> int:
    """The patient's version; a stale `If-Match` is refused (412) before anything is written."""
    version = patients.status(deps_of(request), mrn, recent=0).patient.version
    if if_match is not None and if_match.strip() not in ("*", f'W/"{version}"', f'"{version}"'):
        raise PreconditionFailed(f"patient is at version {version}, not {if_match.strip()}: reload")
    return version


@router.get(
    "/{mrn:path}/assignment", response_model=schemas.AssignmentOut | None, operation_id="getAssignment"
)
def get_assignment(request: Request, mrn: Mrn, _: CurrentUser) -> Any:
    """The patient's care team and named coordinator (null: not assigned yet)."""
    found = caseload.assignment(deps_of(request), mrn)
    return _out(mrn.strip(), found) if found else None


@router.post(
    "/{mrn:path}/assignment",
    response_model=schemas.AssignmentOut,
    responses={**PRECONDITION_FAILED, 200: {"headers": ETAG_HEADER}},
    operation_id="assignPatient",
)
def assign(
    request: Request,
    response: Response,
    mrn: Mrn,
    body: schemas.AssignIn,
    user: Assigner,
    if_match: IfMatch = None,
) -> Any:
    """Put the patient in a team's care, optionally named to a coordinator (audited)."""
    version = _check_version(request, mrn, if_match)
    done = caseload.assign(deps_of(request), mrn, body.team, body.coordinator, by=user.name)
    set_etag(response, version)
    return _out(mrn.strip(), done)


@router.post(
    "/{mrn:path}/bookings",
    status_code=201,
    response_model=schemas.BookedOut,
    responses={**PRECONDITION_FAILED, 201: {"headers": ETAG_HEADER}},
    operation_id="bookFollowUp",
)
def book(
    request: Request,
    response: Response,
    mrn: Mrn,
    body: schemas.BookIn,
    user: Recorder,
    if_match: IfMatch = None,
) -> Any:
    """Book an open follow-up for a date (an event in the history; a date outside the window is
    recorded with a `warning`)."""
    _check_version(request, mrn, if_match)
    try:
        done = bookings.book(
            deps_of(request),
            mrn,
            body.rule,
            body.on,
            region=body.region,
            note=body.note,
            actor=user.name,
            role=user.role,
        )
    except StaleVersion as exc:
        raise PreconditionFailed(str(exc)) from None
    set_etag(response, done.recorded.patient.version)
    return schemas.BookedOut(
        event=present.event(done.recorded.event),
        version=done.recorded.patient.version,
        rule=done.rule,
        region=done.region or None,
        on=done.on,
        warning=done.warning,
    )
