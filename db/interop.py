"""Reads and writes of interoperability: the caseload's open windows and the calendar feed tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy import select as columns
from sqlmodel import Session

from db.accounts import to_user
from db.repository import connection
from db.tables import CalendarTokenRow, FollowUpRow, PatientRow, UserRow
from db.tracking import _FU_ROW, _follow_up
from pathway.domain.rows import OpenWindow
from pathway.ports import User

_F = FollowUpRow.__table__  # type: ignore[attr-defined]
_P = PatientRow.__table__  # type: ignore[attr-defined]
_C = CalendarTokenRow.__table__  # type: ignore[attr-defined]
_OPEN_WINDOWS = (
    columns(*_FU_ROW, _P.c.mrn, _P.c.name)
    .select_from(_F.join(_P, _P.c.id == _F.c.patient_id))
    .where(_F.c.status == "open", _F.c.opens_at <= bindparam("until"))
    .order_by(_F.c.opens_at, _F.c.id)
    .limit(bindparam("limit"))
)


class SqlInteropRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open_windows(self, until: datetime, limit: int) -> list[OpenWindow]:
        rows = connection(self.session).execute(_OPEN_WINDOWS, {"until": until, "limit": limit})
        n = len(_FU_ROW)
        return [OpenWindow(_follow_up(row[:n]), row[n], row[n + 1]) for row in rows]

    def add_calendar_token(self, user_id: int, token_hash: str, at: datetime) -> None:
        self.session.add(CalendarTokenRow(user_id=user_id, token_hash=token_hash, created_at=at))
        self.session.flush()

    def revoke_calendar_tokens(self, user_id: int, at: datetime) -> int:
        result = connection(self.session).execute(
            update(_C).where(_C.c.user_id == user_id, _C.c.revoked_at.is_(None)).values(revoked_at=at)
        )
        return int(result.rowcount)

    def calendar_user(self, token_hash: str) -> User | None:
        """The user of an unrevoked feed token (revoked users included: the caller checks)."""
        user_id = (
            connection(self.session)
            .execute(columns(_C.c.user_id).where(_C.c.token_hash == token_hash, _C.c.revoked_at.is_(None)))
            .scalar()
        )
        row = self.session.get(UserRow, user_id) if user_id is not None else None
        return to_user(row) if row else None
