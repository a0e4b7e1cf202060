"""An alert's statuses and severities, and the ONE table of the moves between statuses.

Who may make a move is the role table's business (`roles.PERMISSIONS`, by permission name); what
a move does to the alert, and whether it is allowed on a critical alert at all, is written here.
The service, the CLI and the web buttons all ask `refusal`; the sweep's own moves are in the
table too, with no permission, so nobody can make them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pathway.domain.roles import PERMISSIONS, allows


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    OVERRIDDEN = "overridden"
    RESOLVED = "resolved"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    SNOOZE = "snooze"
    OVERRIDE = "override"
    RESOLVE = "resolve"  # the sweep: the step was done, or the alert escalated or no longer applies
    REOPEN = "reopen"  # the sweep: a snooze or an override ran out, or a resolved step is due again


SEVERITY_RANK: dict[str, int] = {Severity.INFO: 1, Severity.WARNING: 2, Severity.CRITICAL: 3}
LIVE: tuple[AlertStatus, ...] = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)
"""Statuses of an alert that still asks for something to be done (the worklist shows them)."""
SUSPENDED: tuple[AlertStatus, ...] = (AlertStatus.SNOOZED, AlertStatus.OVERRIDDEN)
"""Statuses that may run out at a date (`snoozed_until`, `override_until`) and reopen."""
ALL_STATUSES: tuple[AlertStatus, ...] = tuple(AlertStatus)


class AlertFilter(StrEnum):
    """What a list of alerts may be filtered by: `live` (the default), `all`, or one status."""

    LIVE = "live"
    ALL = "all"
    OPEN = AlertStatus.OPEN.value
    ACKNOWLEDGED = AlertStatus.ACKNOWLEDGED.value
    SNOOZED = AlertStatus.SNOOZED.value
    OVERRIDDEN = AlertStatus.OVERRIDDEN.value
    RESOLVED = AlertStatus.RESOLVED.value


STATUS_FILTERS: tuple[str, ...] = tuple(AlertFilter)


class OverrideReason(StrEnum):
    """Why an alert instance is overridden (a reason code, with a free-text note beside it)."""

    CONTRAINDICATION = "contraindication"
    PATIENT_PREFERENCE = "patient_preference"
    CLINICAL_JUDGEMENT = "clinical_judgement"
    DATA_ERROR = "data_error"
    OUTSIDE_INDICATION = "outside_indication"
    ALREADY_DONE_ELSEWHERE = "already_done_elsewhere"


OVERRIDE_REASONS: tuple[OverrideReason, ...] = tuple(OverrideReason)


@dataclass(frozen=True)
class Move:
    """One allowed move: from which statuses, to which, who may (a permission), and on critical alerts
    whether it is allowed at all and which permission it then needs."""

    action: AlertAction
    sources: tuple[AlertStatus, ...]
    target: AlertStatus
    permission: str | None  # None: only the sweep makes this move
    on_critical: str | None  # permission needed on a critical alert; None: never on a critical alert
    why_not_critical: str = ""


MOVES: dict[AlertAction, Move] = {
    m.action: m
    for m in (
        Move(
            AlertAction.ACKNOWLEDGE,
            (AlertStatus.OPEN, AlertStatus.SNOOZED),
            AlertStatus.ACKNOWLEDGED,
            "acknowledge",
            "acknowledge",
        ),
        Move(
            AlertAction.SNOOZE,
            (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
            AlertStatus.SNOOZED,
            "snooze",
            None,
            "a critical alert cannot be snoozed: acknowledge it (it is notified again until the step "
            "is done) or have a clinician override it with a reason",
        ),
        Move(AlertAction.OVERRIDE, LIVE, AlertStatus.OVERRIDDEN, "override", "override_critical"),
        Move(AlertAction.RESOLVE, LIVE, AlertStatus.RESOLVED, None, None),
        Move(
            AlertAction.REOPEN,
            (AlertStatus.SNOOZED, AlertStatus.OVERRIDDEN, AlertStatus.RESOLVED),
            AlertStatus.OPEN,
            None,
            None,
        ),
    )
}


@dataclass(frozen=True)
class Refusal:
    """Why a move is refused: `critical` (never on a critical alert), `role`, `status` or `sweep`."""

    reason: str
    message: str


def refusal(
    action: AlertAction, status: str, severity: str, role: str, alert_id: int | None = None
) -> Refusal | None:
    """Why `role` may not make `action` on an alert in `status` of `severity`; None when it may.

    A move nobody may make on a critical alert is refused for that reason first, then the role,
    then the alert's current status.
    """
    move = MOVES[action]
    name = f"alert {alert_id}" if alert_id is not None else "the alert"
    if move.permission is None:
        return Refusal("sweep", f"{action} is done by the sweep, not by hand")
    permission = move.permission
    if severity == Severity.CRITICAL:
        if move.on_critical is None:
            return Refusal("critical", f"{name} is critical: {move.why_not_critical}")
        permission = move.on_critical
    if not allows(role, permission):
        who = " or ".join(PERMISSIONS.get(permission, ("nobody",)))
        article = "an" if role[:1] in "aeiou" else "a"
        return Refusal("role", f"{name} is {severity}: only a {who} may {action} it, not {article} {role}")
    if status not in move.sources:
        return Refusal("status", f"{name} is {status}; it cannot be {move.target}")
    return None


def may(action: AlertAction, status: str, severity: str, role: str) -> bool:
    return refusal(action, status, severity, role) is None


def still_notified(status: str, severity: str) -> bool:
    """Whether the alert's pending notifications still go out.

    Acknowledging a warning or info alert stops its notifications; acknowledging a critical alert
    records who is handling it but silences nothing (an on-call pager keeps paging).
    """
    if status == AlertStatus.OPEN:
        return True
    return status == AlertStatus.ACKNOWLEDGED and severity == Severity.CRITICAL


def renotify_round(created_at: datetime, now: datetime, every: timedelta) -> int:
    """Which renotification round a live critical alert is in: 0 until `every` has passed since it
    was first notified, then 1, 2, ... One outbox row per round, so a late sweep sends one, not many."""
    if now <= created_at or every <= timedelta(0):
        return 0
    return int((now - created_at) / every)


def next_renotify_at(created_at: datetime, now: datetime, every: timedelta) -> datetime:
    """When a live critical alert's next renotification round falls due, seen from `now`: the end of
    the round it is in. Stored on the alert so a sweep reads only the alerts due, not every one."""
    return created_at + (renotify_round(created_at, now, every) + 1) * max(every, timedelta(minutes=1))


RENOTIFIED: tuple[AlertStatus, ...] = tuple(s for s in LIVE if still_notified(s, Severity.CRITICAL))
"""Statuses in which a critical alert is notified again every round (open, acknowledged)."""


@dataclass(frozen=True)
class AlertPolicy:
    """How long a snooze may last and how often a live critical alert is notified again.

    Both are local proposals read from the pathway file's parameters `snooze_max_days` and
    `critical_renotify_hours`; a pathway file that leaves them out gets these values.
    """

    snooze_max_days: int = 14
    critical_renotify_hours: float = 4.0

    @property
    def renotify_every(self) -> timedelta:
        return timedelta(hours=self.critical_renotify_hours)

    @staticmethod
    def problems(values: dict[str, float]) -> list[str]:
        out = []
        days = values.get("snooze_max_days")
        if days is not None and (days < 1 or days != int(days)):
            out.append("parameters.snooze_max_days: must be a whole number of days, at least 1")
        hours = values.get("critical_renotify_hours")
        if hours is not None and not 0.25 <= hours <= 72:
            out.append("parameters.critical_renotify_hours: must be between 0.25 and 72 hours")
        return out

    @classmethod
    def from_parameters(cls, values: dict[str, float]) -> AlertPolicy:
        default = cls()
        return cls(
            int(values.get("snooze_max_days", default.snooze_max_days)),
            float(values.get("critical_renotify_hours", default.critical_renotify_hours)),
        )
