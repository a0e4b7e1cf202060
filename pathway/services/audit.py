"""The audit trail: every write and every view of a patient record, who, when, from where.

Writes are recorded in the unit of work of the action they describe (one transaction: both or
neither). "From where" is the client address of a web request, set per request by the web layer
(`ORIGIN`), and "cli" otherwise.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Any

from pathway.ports import AuditEntry, Deps, UnitOfWork

ORIGIN: ContextVar[str] = ContextVar("audit_origin", default="cli")
MAX_ROWS = 10_000


def note(
    uow: UnitOfWork, at: datetime, actor: str, action: str, mrn: str | None = None, **detail: Any
) -> None:
    """Add an audit row to this unit of work (committed with it)."""
    uow.audit.add(AuditEntry(at=at, actor=actor, action=action, origin=ORIGIN.get(), mrn=mrn, detail=detail))


def record(deps: Deps, actor: str, action: str, mrn: str | None = None, **detail: Any) -> None:
    """An audit row in a transaction of its own: views, sign-in failures."""
    with deps.uow() as uow:
        note(uow, deps.clock.now(), actor, action, mrn, **detail)
        uow.commit()


def find(
    deps: Deps,
    user: str | None = None,
    mrn: str | None = None,
    since: datetime | None = None,
    limit: int = 500,
) -> list[AuditEntry]:
    with deps.read() as uow:
        return uow.audit.find(user, mrn, since, max(1, min(limit, MAX_ROWS)))


def as_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "mrn": entry.mrn,
        "origin": entry.origin,
        "detail": entry.detail or {},
    }
