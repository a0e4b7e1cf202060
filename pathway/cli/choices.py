"""The fixed choices of CLI options, as enums so that --help lists them and Click refuses the rest.

Each mirrors a tuple kept by the code that owns the values; tests/e2e/test_cli_conventions.py
proves they match, so the lists cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    csv = "csv"
    json = "json"


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    critical = "critical"


class AlertStatus(StrEnum):
    live = "live"
    all = "all"
    open = "open"
    acknowledged = "acknowledged"
    snoozed = "snoozed"
    overridden = "overridden"
    resolved = "resolved"


class NotificationStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"
    cancelled = "cancelled"
    digest = "digest"


class OverrideReason(StrEnum):
    contraindication = "contraindication"
    patient_preference = "patient_preference"
    clinical_judgement = "clinical_judgement"
    data_error = "data_error"
    outside_indication = "outside_indication"
    already_done_elsewhere = "already_done_elsewhere"


class Role(StrEnum):
    viewer = "viewer"
    coordinator = "coordinator"
    clinician = "clinician"
    admin = "admin"
