"""The audit trail (append-only; the triggers of migration 0015 refuse UPDATE, DELETE, TRUNCATE)
and the server-side web sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from db.fast import Prebuilt
from db.repository import connection
from db.tables import AuditRow, WebSessionRow
from pathway.ports import AuditEntry, WebSession

_AUDIT_INSERT = Prebuilt(insert(AuditRow.__table__), dml=True)  # type: ignore[attr-defined]  # recording path


class SqlAuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> None:
        _AUDIT_INSERT.run(
            connection(self.session),
            {
                "at": entry.at,
                "actor": entry.actor[:100],
                "action": entry.action,
                "mrn": entry.mrn,
                "origin": entry.origin[:64],
                "detail": dict(entry.detail or {}),
            },
        )

    def find(self, user: str | None, mrn: str | None, since: datetime | None, limit: int) -> list[AuditEntry]:
        stmt = select(AuditRow)
        if user is not None:
            stmt = stmt.where(AuditRow.actor == user)
        if mrn is not None:
            stmt = stmt.where(AuditRow.mrn == mrn)
        if since is not None:
            stmt = stmt.where(col(AuditRow.at) >= since)
        rows = self.session.exec(stmt.order_by(col(AuditRow.id).desc()).limit(limit)).all()
        return [
            AuditEntry(
                at=r.at, actor=r.actor, action=r.action, origin=r.origin, mrn=r.mrn, detail=r.detail, id=r.id
            )
            for r in rows
        ]


class SqlSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, id_hash: str, user_id: int, at: datetime) -> None:
        self.session.add(WebSessionRow(id_hash=id_hash, user_id=user_id, created_at=at, last_seen_at=at))
        self.session.flush()

    def get(self, id_hash: str) -> WebSession | None:
        row = self.session.get(WebSessionRow, id_hash)
        if row is None:
            return None
        return WebSession(row.user_id, row.created_at, row.last_seen_at, row.revoked_at)

    def touch(self, id_hash: str, at: datetime) -> None:
        self.session.execute(
            update(WebSessionRow).where(col(WebSessionRow.id_hash) == id_hash).values(last_seen_at=at)
        )

    def revoke(self, id_hash: str, at: datetime) -> None:
        self.session.execute(
            update(WebSessionRow)
            .where(col(WebSessionRow.id_hash) == id_hash, col(WebSessionRow.revoked_at).is_(None))
            .values(revoked_at=at)
        )

    def revoke_user(self, user_id: int, at: datetime) -> int:
        result = self.session.execute(
            update(WebSessionRow)
            .where(col(WebSessionRow.user_id) == user_id, col(WebSessionRow.revoked_at).is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
