"""Page forms: assign a patient to a care team, book an open follow-up (the worklist's row
actions may post to /patients/{mrn}/bookings too: fields rule, region, on, note, and the
`guard()` fields csrf_token and back, where it returns to)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from pathway.domain.clinical_time import parse_date
from pathway.domain.errors import InvalidInput
from pathway.ports import User
from pathway.services import bookings, caseload
from pathway.web.api_patients import Mrn
from pathway.web.auth import deps_of, flash, may

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=200)]


@router.post("/patients/{mrn:path}/assignment")
def assign(
    request: Request,
    mrn: Mrn,
    user: Annotated[User, may("assign")],
    team: Short = "",
    coordinator: Short = "",
) -> Response:
    if not team.strip():
        raise InvalidInput("choose a care team")
    done = caseload.assign(deps_of(request), mrn, team, coordinator.strip() or None, by=user.name)
    who = f", coordinator {done.coordinator}" if done.coordinator else " (no named coordinator)"
    flash(request, "ok", f"{mrn.strip()} is now in team {done.team}{who}.")
    return RedirectResponse(f"/patients/{quote(mrn.strip())}", status_code=303)


@router.post("/patients/{mrn:path}/bookings")
def book(
    request: Request,
    mrn: Mrn,
    user: Annotated[User, may("record")],
    rule: Annotated[str, Form(max_length=16)],
    on: Short = "",
    region: Short = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not on.strip():
        raise InvalidInput("choose the booked date")
    done = bookings.book(
        deps_of(request),
        mrn,
        rule,
        parse_date(on, "booked date"),
        region=region.strip() or None,
        note=note.strip() or None,
        actor=user.name,
        role=user.role,
    )
    warning = f" Note: {done.warning}." if done.warning else ""
    flash(
        request,
        "ok",
        f"Booked {done.step} for {done.on.isoformat()} (event {done.recorded.event.id}).{warning}",
    )
    mrn = done.recorded.patient.mrn
    back = getattr(request.state, "back", None) or f"/patients/{quote(mrn)}"  # the form's `back`
    return RedirectResponse(back, status_code=303)
