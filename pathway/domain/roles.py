"""Who may do what: one table, read by the accounts service, the alert actions and the web app."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"
    ADMIN = "admin"


ROLES: tuple[Role, ...] = tuple(Role)
_WRITERS = (Role.COORDINATOR, Role.CLINICIAN, Role.ADMIN)
_CLINICIANS = (Role.CLINICIAN, Role.ADMIN)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "read": ROLES,
    "enrol": _WRITERS,
    "record": _WRITERS,
    "acknowledge": _WRITERS,
    "snooze": _WRITERS,
    "override": _WRITERS,
    "override_critical": _CLINICIANS,
    "record_decision": _CLINICIANS,
    "assign": _WRITERS,
    "manage_users": (Role.ADMIN,),
    "apply_pathway": _CLINICIANS,
}
DECISION_EVENTS = frozenset({"mdt_decision"})


def allows(role: str, action: str) -> bool:
    return role in PERMISSIONS.get(action, ())


def event_refusal(role: str, event: str, retracting: str | None = None) -> str | None:
    """Why this role may not record `event` (None if it may).

    A retraction undoes the retracted event, so it needs the role that may record that event:
    a coordinator cannot undo a clinician's MDT decision.
    """
    if not allows(role, "record"):
        return f"recording needs the role {' or '.join(PERMISSIONS['record'])}"
    for kind in (event, retracting):
        if kind in DECISION_EVENTS and not allows(role, "record_decision"):
            verb = "retracting" if kind == retracting else "recording"
            return f"{verb} {kind} needs the role {' or '.join(PERMISSIONS['record_decision'])}"
    return None
