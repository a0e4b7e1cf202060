"""The fixed choices of CLI options, as enums so that --help lists them and Click refuses the rest.

The domain's own StrEnums are the choices wherever the domain owns the values (one definition):
alert filters, severities, override reasons, notification statuses and roles. Only the report
formats, owned by the renderers, are listed here; tests/e2e/test_cli_conventions.py proves they
match the renderers' tuple.
"""

from __future__ import annotations

from enum import StrEnum

from pathway.domain.alert_status import AlertFilter as AlertStatus
from pathway.domain.alert_status import OverrideReason, Severity
from pathway.domain.records import NotificationStatus
from pathway.domain.roles import Role

__all__ = ["AlertStatus", "NotificationStatus", "OverrideReason", "ReportFormat", "Role", "Severity"]


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    csv = "csv"
    json = "json"
