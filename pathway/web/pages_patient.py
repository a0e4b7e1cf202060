"""Pages: patients (list and enrol) and one patient (tracks, alerts, follow-ups, record an event)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pathway.domain.clinical_time import parse_date
from pathway.ports import User
from pathway.services import accounts
from pathway.services import patients as patient_service
from pathway.web import views
from pathway.web.api_patients import Mrn
from pathway.web.audit_routes import viewed
from pathway.web.auth import CurrentUser, deps_of, flash, may
from pathway.web.fmt import local_day
from pathway.web.templating import page
from pathway.web.views_patient import event_fields, occurrence, patient_page

router = APIRouter(include_in_schema=False)
Choice = Annotated[str | None, Query(max_length=64)]
Short = Annotated[str, Form(max_length=200)]


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.get("/patients", response_class=HTMLResponse)
def patients(request: Request, user: CurrentUser, track: Choice = None, state: Choice = None) -> HTMLResponse:
    deps = deps_of(request)
    rows = patient_service.list_patients(deps, track or None, state or None)
    definition = deps.pathway.definition
    return page(
        request,
        "patients.html",
        {
            "rows": rows,
            "tracks": list(definition.tracks),
            "track": track or "",
            "state": state or "",
            "states": views.states_by_track(definition),
            "histologies": definition.histology_values(),
            "can_enrol": accounts.allows(user.role, "enrol"),
        },
    )


@router.post("/patients")
def enrol(
    request: Request,
    user: Annotated[User, may("enrol")],
    mrn: Annotated[str, Form(max_length=64)],
    histology: Short = "",
    enrolled_on: Short = "",
    name: Annotated[str, Form(max_length=200)] = "",
    birth_date: Short = "",
    confirm_new: Short = "",
) -> Response:
    patient = patient_service.enroll(
        deps_of(request),
        mrn,
        name=name.strip() or None,
        birth_date=parse_date(birth_date, "birth date") if birth_date.strip() else None,
        histology=histology or None,
        on=parse_date(enrolled_on, "enrolment date") if enrolled_on else None,
        actor=user.name,
        confirm_new=bool(confirm_new),
    )
    flash(request, "ok", f"Enrolled {patient.mrn} on {patient.enrolled_on}.")
    return RedirectResponse(f"/patients/{quote(patient.mrn)}", status_code=303)


@router.get("/patients/{mrn:path}", response_class=HTMLResponse)
def patient(request: Request, mrn: Mrn, user: CurrentUser, event: Choice = None) -> HTMLResponse:
    context = patient_page(deps_of(request), user, mrn, event)
    viewed(request, user, mrn.strip(), "page")
    return page(request, "patient.html", context)


@router.post("/patients/{mrn:path}/events")
def record(
    request: Request,
    mrn: Mrn,
    user: Annotated[User, may("record")],
    form: Annotated[dict[str, str], Depends(form_fields)],
    event: Annotated[str, Form(max_length=64)],
    on: Short = "",
    time: Short = "",
    reason: Short = "",
    expected_version: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    from_worklist: Short = "",
) -> Response:
    deps = deps_of(request)
    day, at = occurrence(on, time, local_day(deps.clock.now(), deps.zone))
    done = patient_service.record_event(
        deps,
        mrn,
        event,
        event_fields(form),
        on=day,
        at=at,
        reason=reason.strip() or None,
        actor=user.name,
        expected_version=expected_version,
        role=user.role,
    )
    moved = ", ".join(f"{t}: {a} → {b}" for t, (a, b) in done.changes.items())
    flash(
        request,
        "ok",
        f"Recorded {done.event.type} for {done.patient.mrn} (event {done.event.id}); "
        + (moved or "no state change")
        + "."
        + (" The hand-over summary is stored with it: see Hand-over summary below." if done.handover else ""),
    )
    back = getattr(request.state, "back", None) if from_worklist else None  # a worklist row's form
    return RedirectResponse(back or f"/patients/{quote(done.patient.mrn)}", status_code=303)
