"""Who may do what: one table, read by the accounts service, the alert actions and the web app."""

from __future__ import annotations

ROLES = ("viewer", "coordinator", "clinician", "admin")
_WRITERS = ("coordinator", "clinician", "admin")
_CLINICIANS = ("clinician", "admin")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "read": ROLES,
    "enrol": _WRITERS,
    "record": _WRITERS,
    "acknowledge": _WRITERS,
    "snooze": _WRITERS,
    "override": _WRITERS,
    "override_critical": _CLINICIANS,
    "record_decision": _CLINICIANS,
    "manage_users": ("admin",),
}
DECISION_EVENTS = frozenset({"mdt_decision"})


def allows(role: str, action: str) -> bool:
    return role in PERMISSIONS.get(action, ())
