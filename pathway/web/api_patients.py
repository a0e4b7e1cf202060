"""/api/v1/patients: list, enrol, detail, history, record an event, why a step is due."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from pathway.domain.errors import StaleVersion
from pathway.domain.explanation import as_json
from pathway.ports import User
from pathway.services import alerting, handover, patients
from pathway.web import paging, preconditions, present, schemas, schemas_views
from pathway.web.audit_routes import viewed
from pathway.web.auth import CurrentUser, deps_of, may
from pathway.web.paging import DEFAULT_LIMIT, Cursor, Limit
from pathway.web.preconditions import ETAG_HEADER, PRECONDITION_FAILED, IfMatch, PreconditionFailed, set_etag

router = APIRouter(prefix="/patients", tags=["patients"])
Mrn = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=patients.MRN_PATTERN.pattern, description="the patient's MRN"),
]
Recorder = Annotated[User, may("record")]
Enroller = Annotated[User, may("enrol")]


@router.get("", response_model=list[schemas.PatientOut], operation_id="listPatients")
def list_patients(
    request: Request,
    response: Response,
    _: CurrentUser,
    track: Annotated[str | None, Query(max_length=32)] = None,
    state: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """Patients in MRN order, a page at a time (the next page in the `Link` header)."""
    deps = deps_of(request)
    order = deps.pathway.definition.tracks
    last = paging.decode("patients", cursor, str)
    rows = patients.list_patients(deps, track, state, after=last, limit=limit + 1)
    shown = paging.page(request, response, "patients", rows, limit, lambda r: r[0].mrn)
    return [present.patient(p, {t: tracks[t] for t in order if t in tracks}) for p, tracks in shown]


@router.post("", status_code=201, response_model=schemas.PatientOut, operation_id="enrolPatient")
def enrol(request: Request, response: Response, body: schemas.EnrolIn, user: Enroller) -> Any:
    deps = deps_of(request)
    p = patients.enroll(
        deps,
        body.mrn,
        name=body.name,
        birth_date=body.birth_date,
        histology=body.histology,
        on=body.enrolled_on,
        fields=dict(body.staging),
        prior=dict(body.prior_treatment),
        actor=user.name,
        confirm_new=body.confirm_new,
    )
    response.headers["Location"] = f"/api/v1/patients/{quote(p.mrn, safe='')}"
    return present.patient(p, patients.status(deps, p.mrn).states)


@router.get("/{mrn:path}/events", response_model=list[schemas.EventOut], operation_id="listEvents")
def history(
    request: Request,
    response: Response,
    mrn: Mrn,
    user: CurrentUser,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """The patient's events in the order they were recorded, a page at a time."""
    last = paging.decode("events", cursor, int)
    h = patients.history(deps_of(request), mrn)
    viewed(request, user, h.patient.mrn, "events")
    rows = paging.after(h.events, last, lambda e: e.id)[: limit + 1]
    shown = paging.page(request, response, "events", rows, limit, lambda e: e.id)
    return [present.event(e, e.id in h.retracted) for e in shown]


@router.post(
    "/{mrn:path}/events",
    status_code=201,
    response_model=schemas.RecordedOut,
    responses={**PRECONDITION_FAILED, 201: {"headers": ETAG_HEADER}},
    operation_id="recordEvent",
)
def record(
    request: Request,
    response: Response,
    mrn: Mrn,
    body: schemas.RecordIn,
    user: Recorder,
    if_match: IfMatch = None,
) -> Any:
    """Record an event; `If-Match: W/"<version>"` (or `expected_version`) refuses a stale write."""
    try:
        done = patients.record_event(
            deps_of(request),
            mrn,
            body.event.strip().lower(),
            dict(body.fields),
            on=body.on,
            at=body.at,
            reason=body.reason,
            actor=user.name,
            expected_version=preconditions.expected_version(if_match, body.expected_version),
            role=user.role,
        )
    except StaleVersion as exc:
        if if_match is not None and if_match.strip() != "*":
            raise PreconditionFailed(str(exc)) from None
        raise
    set_etag(response, done.patient.version)
    response.headers["Location"] = f"/api/v1/patients/{quote(done.patient.mrn, safe='')}/events"
    return schemas.RecordedOut(
        event=present.event(done.event),
        version=done.patient.version,
        tracks=done.states,
        changes={t: list(c) for t, c in done.changes.items()},
        handover=f"/api/v1/patients/{done.patient.mrn}/handover" if done.handover else None,
    )


@router.get("/{mrn:path}/why/{rule}", response_model=list[schemas_views.WhyOut], operation_id="explainRule")
def why(request: Request, mrn: Mrn, rule: Annotated[str, Path(max_length=16)], _: CurrentUser) -> Any:
    deps = deps_of(request)
    return [as_json(e, deps.zone) for e in alerting.why(deps, mrn, rule)]


@router.get("/{mrn:path}/handover", response_model=schemas_views.HandoverOut, operation_id="getHandover")
def handover_summary(request: Request, mrn: Mrn, user: CurrentUser) -> Any:
    """The hand-over summary stored when the patient was transferred, withdrew or was lost to follow-up."""
    summary = handover.read(deps_of(request), mrn)
    viewed(request, user, mrn.strip(), "handover")
    return summary


@router.get(
    "/{mrn:path}",
    response_model=schemas.PatientDetail,
    responses={200: {"headers": ETAG_HEADER}},
    operation_id="getPatient",
)
def detail(request: Request, response: Response, mrn: Mrn, user: CurrentUser) -> Any:
    """The patient with follow-ups and alerts; `ETag` is its version (for `If-Match` on writes)."""
    deps = deps_of(request)
    view = patients.status(deps, mrn, recent=0)
    viewed(request, user, view.patient.mrn, "record")
    set_etag(response, view.patient.version)
    follow_ups, alerts = alerting.follow_ups_of(deps, mrn)
    dead = alerting.undelivered_alert_ids(deps)
    rules = deps.pathway.definition.rules.follow_ups
    base = present.patient(view.patient, view.states)
    return schemas.PatientDetail(
        **base.model_dump(),
        name=view.patient.name,
        birth_date=view.patient.birth_date,
        allowed_events=view.allowed_events,
        follow_ups=[present.follow_up(f, rules, deps.zone) for f in follow_ups],
        alerts=[present.alert(a, view.patient.mrn, dead) for a in alerts],
    )
