"""FHIR export of a patient (`GET /api/v1/patients/{mrn}/fhir`) and the per-user iCalendar feed
(`GET /calendar/{token}.ics`: the secret token is the credential; unknown or revoked answers 404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from pathway.domain.errors import NotFound
from pathway.interop.fhir_common import Site
from pathway.services import interop as interop_service
from pathway.services import patients
from pathway.web.audit_routes import viewed
from pathway.web.auth import CurrentUser, deps_of
from pathway.web.schemas import JSON_ERRORS

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class InteropSettings:
    site: Site
    calendar_show_patient: bool = False
    calendar_days: int = 90


def settings_of(request: Request) -> InteropSettings:
    return cast(InteropSettings, request.app.state.interop)


# The outline of a FHIR R4 Bundle; each resource's full schema is FHIR's own (hl7.org/fhir/R4).
BUNDLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "type"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string"},
        "timestamp": {"type": "string"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "fullUrl": {"type": "string"},
                    "resource": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"type": "string"}, "id": {"type": "string"}},
                    },
                },
            },
        },
    },
}
api = APIRouter(prefix="/patients", tags=["fhir"])
Mrn = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=patients.MRN_PATTERN.pattern, description="the patient's MRN"),
]


@api.get(
    "/{mrn:path}/fhir",
    response_class=JSONResponse,
    responses={**JSON_ERRORS, 200: {"content": {FHIR_JSON: {"schema": BUNDLE_SCHEMA}}}},
    summary="The patient as a FHIR R4 Bundle",
    operation_id="getPatientFhir",
)
def fhir_bundle(request: Request, mrn: Mrn, user: CurrentUser) -> Any:
    data = interop_service.export_patient(deps_of(request), settings_of(request).site, mrn)
    viewed(request, user, mrn.strip(), "fhir")
    return JSONResponse(data, media_type=FHIR_JSON)


feeds = APIRouter(include_in_schema=False)


@feeds.get("/calendar/{token}.ics")
def calendar(request: Request, token: str) -> Response:
    if not interop_service.valid_token(token):
        raise NotFound("no such calendar")
    config = settings_of(request)
    body = interop_service.calendar_feed(
        deps_of(request), token, config.calendar_show_patient, config.calendar_days
    )
    return Response(body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "no-store"})
