"""Typed answers of the read-only views: why a step is due, the daily report, the hand-over summary.

They mirror the plain shapes the domain builds (`explanation.as_json`, `report.as_json`,
`handover.build_handover`), so the OpenAPI document says what each field is.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Scalar = str | int | float | bool | None  # an event field's value as stored


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class IntervalOut(_Out):
    opens: str = Field(description="as written in the pathway file, e.g. 6w")
    target: str | None
    closes: str
    recurring: bool


class WindowOut(_Out):
    opens: str | None
    target: str | None
    closes: str | None


class LevelOut(_Out):
    severity: str
    alert: str | None
    fires_at: str | None


class AlertRefOut(_Out):
    id: int
    severity: str
    status: str
    holiday_calendar: str | None = Field(None, description="the site's holiday calendar when raised")
    holidays_version: str | None = Field(None, description="the `holidays` package that dated it")


class WhyOut(_Out):
    """One follow-up of the rule (the latest per region): why it is due when it is."""

    rule: str
    step: str
    region: str | None
    source: str
    kind: str
    track: str
    runs_in: list[str]
    anchor: str
    anchor_at: str | None
    interval: IntervalOut
    window: WindowOut
    status: str
    done_by: list[str]
    done_on: str | None
    late_days: int
    early: bool
    cancel_reason: str | None
    adjustments: list[str]
    alert_levels: list[LevelOut]
    alerts: list[AlertRefOut]


class ReportStepOut(_Out):
    mrn: str
    rule: str
    step: str
    opens: str
    target: str
    closes: str
    days_late: int


class ReportAlertOut(_Out):
    id: int
    mrn: str
    rule: str
    status: str
    message: str
    age_days: int


class RuleQualityOut(_Out):
    model_config = ConfigDict(extra="allow")  # one count and one rate per outcome of the pathway

    total: int


class QualityOut(_Out):
    period_days: int
    by_rule: dict[str, dict[str, int | float | str]]  # counts, rates and the step's name
    median_days_decision_to_rt: float | None
    median_days_alert_open: float | None
    alerts_resolved: int


class ForecastWeekOut(_Out):
    week_of: str
    imaging: int
    exams: int


class ReportOut(_Out):
    """The daily status report as data."""

    date: str
    generated_at: str
    cohort: int
    active: int
    by_state: dict[str, dict[str, int]]
    overdue: list[ReportStepOut]
    due_today: list[ReportStepOut]
    due_next_7_days: list[ReportStepOut]
    alerts_by_severity: dict[str, list[ReportAlertOut]]
    news: dict[str, list[str]]
    pain_steps_overdue: list[str]
    palliative_referral_overdue: list[str]
    quality: QualityOut
    forecast: list[ForecastWeekOut]
    totals: dict[str, int]
    last_follow_up_id: int


class HandoverPatientOut(_Out):
    mrn: str
    enrolled_on: str
    histology: str | None


class PathwayRefOut(_Out):
    id: str
    version: str


class HandoverExitOut(_Out):
    event: str
    event_id: int
    on: str
    details: dict[str, Scalar]
    reason: str | None
    recorded_by: str


class HandoverOut(_Out):
    """The summary stored when the patient left (transfer, withdrawal, lost to follow-up)."""

    patient: HandoverPatientOut
    pathway: PathwayRefOut
    exit: HandoverExitOut
    generated_at: str
    tracks: dict[str, str]
    steps: list[dict[str, Scalar]]
    open_alerts: list[dict[str, Scalar]]
    last_imaging: list[dict[str, Scalar | dict[str, Scalar]]]
    active_drugs: list[dict[str, Scalar | dict[str, Scalar]]]
    pauses: list[dict[str, Scalar | dict[str, Scalar]]]


class PathwayChangeOut(_Out):
    section: str
    item: str
    path: str
    old: str | None = Field(description="the old value as JSON (null: added)")
    new: str | None = Field(description="the new value as JSON (null: removed)")
    effect: str = Field(description="loosening, tightening or neutral")
    why: str


class PathwayVersionOut(_Out):
    number: int
    pathway: str
    label: str
    hash: str
    applied_at: str
    applied_by: str
    approved_by: str
    note: str
    summary: str
    changes: list[PathwayChangeOut]
    rederived: bool


class AuditEntryOut(_Out):
    id: int | None
    at: str
    actor: str
    action: str
    mrn: str | None
    origin: str
    detail: dict[str, Scalar]
