"""Request and response bodies of the JSON API (they make the OpenAPI document)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD (pydantic would read `0` as 1970-01-01)."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _iso_instant(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DAY.match(value)):
        return value
    raise ValueError("must be a date and time written YYYY-MM-DDTHH:MM")


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value.date() <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


ClinicDate = Annotated[date, BeforeValidator(_iso_date), Field(ge=EARLIEST, le=LATEST)]
Instant = Annotated[datetime, BeforeValidator(_iso_instant), AfterValidator(_in_range)]
Text = Annotated[str, Field(max_length=2000), AfterValidator(_no_nul)]
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_nul)]
_Text500 = Annotated[str, Field(max_length=500), AfterValidator(_no_nul)]
# a list is the value of a multiple-choice field (e.g. the involved sites)
FieldValue = _Text500 | int | float | bool | Annotated[list[_Text500], Field(max_length=50)]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the alert's id")]
Role = Literal["viewer", "coordinator", "clinician", "admin"]  # tested: = accounts.ROLES
OverrideReason = Literal[
    "contraindication",
    "patient_preference",
    "clinical_judgement",
    "data_error",
    "outside_indication",
    "already_done_elsewhere",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldProblem(BaseModel):
    location: str = Field(description="Where: body.mrn, query.limit, header.if-match, ...")
    message: str


class Error(BaseModel):
    """An RFC 9457 problem detail (application/problem+json)."""

    type: str = Field("about:blank", description="A URI naming the kind of problem")
    title: str = Field(description="The HTTP status in words")
    status: int
    detail: str = Field(description="What was wrong, in words a person understands")
    error: str = Field(description="The same as detail (kept for clients of the first version)")
    errors: list[FieldProblem] | None = Field(None, description="Each refused field, for forms")


PROBLEM = "application/problem+json"
_ERROR_TEXTS = (
    (400, "the request body could not be read"),
    (401, "not signed in: send Authorization: Bearer <token>"),
    (403, "your role does not allow this"),
    (404, "no such patient, alert or record"),
    (409, "the current state does not allow this, or someone changed it meanwhile"),
    (413, "the request body is larger than the server accepts (PATHWAY_MAX_BODY_BYTES)"),
    (422, "the input is not valid"),
    (429, "too many failed sign-ins from this address or for this account: see Retry-After"),
)
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Error,
        "description": text,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for status, text in _ERROR_TEXTS
}
JSON_ERRORS: dict[int | str, dict[str, Any]] = {  # for routes whose success is not JSON
    status: {
        "description": text,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
            PROBLEM: {"schema": {"$ref": "#/components/schemas/Error"}},
        },
    }
    for status, text in _ERROR_TEXTS
}


class EnrolIn(_In):
    mrn: Annotated[str, Field(min_length=1, max_length=64, examples=["MRN-1001"])]
    name: Name | None = None
    birth_date: ClinicDate | None = None
    histology: Annotated[str, Field(max_length=64)] | None = None
    enrolled_on: ClinicDate | None = Field(default=None, description="default: today")
    confirm_new: bool = Field(
        default=False, description="enrol although a patient with this name and birth date exists"
    )
    staging: dict[Annotated[str, Field(max_length=64)], FieldValue] = Field(
        default_factory=dict,
        description="fields of the staging event recorded with the enrolment",
        examples=[{"sites": ["ilium", "si_joint"]}],
    )
    prior_treatment: dict[Annotated[str, Field(max_length=64)], FieldValue] = Field(
        default_factory=dict,
        description="fields of the prior-treatment event recorded with the enrolment (anthracycline "
        "given before this pathway, cardiac-region RT)",
        examples=[
            {"drug": "epirubicin", "cumulative_dose": 150, "unit": "mg/m2", "cardiac_region_rt": False}
        ],
    )


class RecordIn(_In):
    event: Annotated[str, Field(min_length=1, max_length=64, examples=["imaging_done"])]
    fields: dict[Annotated[str, Field(max_length=64)], FieldValue] = Field(
        default_factory=dict, examples=[{"region": "chest", "modality": "CT"}]
    )
    on: ClinicDate | None = Field(default=None, description="clinic-local date it happened")
    at: Instant | None = Field(
        default=None, description="clinic-local date and time, or with an offset; not together with `on`"
    )
    reason: Text | None = Field(default=None, description="why (needed for a retraction)")
    expected_version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        default=None, description="refuse with 409 if the patient changed since this version"
    )


class AcknowledgeIn(_In):
    note: Text | None = None
    handling: Annotated[Text, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="who is handling it (default: the person acknowledging)"
    )


class SnoozeIn(_In):
    until: ClinicDate
    note: Annotated[Text, Field(min_length=1)]


class OverrideIn(_In):
    reason: OverrideReason
    note: Annotated[Text, Field(min_length=1)]
    until: ClinicDate | None = Field(default=None, description="expiry; default: this instance")


class RoleIn(_In):
    role: Role


class UserIn(_In):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    role: Role
    expires_in_days: Annotated[int | None, Field(ge=1, le=3650)] = None


class PatientOut(BaseModel):
    id: int
    mrn: str
    enrolled_on: date
    histology: str | None
    version: int
    tracks: dict[str, str]


class FollowUpOut(BaseModel):
    id: int
    rule: str
    step: str
    region: str | None
    status: str
    opens: str
    target: str
    closes: str
    anchor: str
    done_on: str | None
    late_days: int
    early: bool
    cancel_reason: str | None
    notes: list[str]


class AlertOut(BaseModel):
    id: int
    mrn: str | None = Field(description="in listings (not in the answer to an action)")
    rule: str
    severity: str
    status: str
    message: str
    source: str
    opened_at: datetime
    follow_up_id: int | None
    held: bool
    acted_by: str | None
    note: str | None
    resolution: str | None
    snoozed_until: datetime | None
    override_until: datetime | None
    notification_dead: bool = False
    holiday_calendar: str | None = Field(None, description="the site's holiday calendar when raised")
    holidays_version: str | None = Field(
        None, description="the `holidays` package version that computed its dates (an update can move them)"
    )


class PatientDetail(PatientOut):
    name: str | None
    birth_date: date | None
    allowed_events: list[str]
    follow_ups: list[FollowUpOut]
    alerts: list[AlertOut]


class EventOut(BaseModel):
    id: int
    event: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    data: dict[str, str | int | float | bool | list[str] | None]
    reason: str | None
    changes: dict[str, list[str]]
    retracted: bool


class RecordedOut(BaseModel):
    event: EventOut
    version: int
    tracks: dict[str, str]
    changes: dict[str, list[str]]
    handover: str | None = None  # where the hand-over summary stored with this exit is


class WorkItemOut(BaseModel):
    mrn: str
    kind: str
    rule: str
    step: str
    severity: str | None
    opens: str
    closes: str
    days_late: int
    alert_id: int | None
    alert_rule: str | None
    held: bool
    detail: str
    booking: str | None = Field(default=None, description='"booked for 12 Dec" or "missed appointment (…)"')


class WorklistOut(BaseModel):
    counts: dict[str, int]
    items: list[WorkItemOut]


class UserOut(BaseModel):
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool
    expires_at: datetime | None = None


class IssuedOut(BaseModel):
    user: UserOut
    token: str = Field(description="shown only this once; only its hash is stored")


class MeOut(BaseModel):
    name: str
    role: str
    permissions: list[str]


class AssignIn(_In):
    team: Annotated[str, Field(min_length=1, max_length=64, examples=["sarcoma-a"])]
    coordinator: Name | None = Field(default=None, description="a member of the team; none: the whole team")


class AssignmentOut(BaseModel):
    mrn: str
    team: str
    coordinator: str | None
    assigned_at: datetime
    assigned_by: str


class BookIn(_In):
    rule: Annotated[str, Field(min_length=1, max_length=16, examples=["T09"])]
    region: Annotated[str, Field(max_length=64)] | None = None
    on: ClinicDate = Field(description="the booked clinic date")
    note: Text | None = None


class BookedOut(BaseModel):
    event: EventOut
    version: int
    rule: str
    region: str | None
    on: date
    warning: str | None = Field(description="the date is outside the step's window (recorded anyway)")
