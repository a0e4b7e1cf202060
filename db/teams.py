"""Care teams, their members, and each patient's current team and named coordinator."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, delete, or_
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from db import pipeline, prefetch
from db.fast import Prebuilt
from db.repository import connection
from db.tables import CareAssignmentRow, CareTeamMemberRow, CareTeamRow, PatientRow, UserRow
from pathway.ports import Assignment, Team

_A = CareAssignmentRow.__table__  # type: ignore[attr-defined]
_M = CareTeamMemberRow.__table__  # type: ignore[attr-defined]
_P = PatientRow.__table__  # type: ignore[attr-defined]
_CT = CareTeamRow.__table__  # type: ignore[attr-defined]
_TARGET_COLUMNS = (
    _A.c.patient_id,
    _CT.c.id,
    _CT.c.name,
    _CT.c.notify_channel,
    _CT.c.notify_to,
    _CT.c.notify_min_severity,
)
_TARGETS = columns(*_TARGET_COLUMNS).join(_CT, _CT.c.id == _A.c.team_id).where(_CT.c.notify_to.is_not(None))
# one patient (recording an event): built once, no expanding IN to render per call
_TARGET_OF = Prebuilt(_TARGETS.where(_A.c.patient_id == bindparam("pid")))
prefetch.register("team", _TARGETS.where(_A.c.patient_id == prefetch.PATIENT_OF_MRN))
_TARGETS_OF = _TARGETS.where(_A.c.patient_id.in_(bindparam("pids", expanding=True)))


class SqlTeamRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _team(self, row: CareTeamRow) -> Team:
        assert row.id is not None
        members = self.session.exec(
            select(UserRow.name)
            .join(CareTeamMemberRow, col(CareTeamMemberRow.user_id) == col(UserRow.id))
            .where(CareTeamMemberRow.team_id == row.id)
            .order_by(UserRow.name)
        ).all()
        return Team(
            row.id, row.name, row.notify_channel, row.notify_to, row.notify_min_severity, tuple(members)
        )

    def add(self, name: str, channel: str | None, to: str | None, floor: str, at: datetime) -> Team:
        row = CareTeamRow(
            name=name, notify_channel=channel, notify_to=to, notify_min_severity=floor, created_at=at
        )
        self.session.add(row)
        self.session.flush()
        return self._team(row)

    def by_name(self, name: str) -> Team | None:
        row = self.session.exec(select(CareTeamRow).where(CareTeamRow.name == name)).first()
        return self._team(row) if row else None

    def listing(self) -> list[Team]:
        return [self._team(r) for r in self.session.exec(select(CareTeamRow).order_by(CareTeamRow.name))]

    def add_member(self, team_id: int, user_id: int, at: datetime) -> bool:
        if self.session.get(CareTeamMemberRow, (team_id, user_id)) is not None:
            return False
        self.session.add(CareTeamMemberRow(team_id=team_id, user_id=user_id, added_at=at))
        self.session.flush()
        return True

    def remove_member(self, team_id: int, user_id: int) -> bool:
        done = self.session.execute(delete(_M).where(_M.c.team_id == team_id, _M.c.user_id == user_id))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def teams_of(self, user_id: int) -> list[str]:
        return list(
            self.session.exec(
                select(CareTeamRow.name)
                .join(CareTeamMemberRow, col(CareTeamMemberRow.team_id) == col(CareTeamRow.id))
                .where(CareTeamMemberRow.user_id == user_id)
                .order_by(CareTeamRow.name)
            ).all()
        )

    def assign(
        self, patient_id: int, team_id: int, coordinator_id: int | None, at: datetime, by: str
    ) -> None:
        row = self.session.get(CareAssignmentRow, patient_id)
        if row is None:
            row = CareAssignmentRow(patient_id=patient_id, team_id=team_id, assigned_at=at, assigned_by=by)
        row.team_id, row.coordinator_id, row.assigned_at, row.assigned_by = team_id, coordinator_id, at, by
        self.session.add(row)
        self.session.flush()

    def assignment(self, patient_id: int) -> Assignment | None:
        row = self.session.get(CareAssignmentRow, patient_id)
        if row is None:
            return None
        team = self.session.get(CareTeamRow, row.team_id)
        user = self.session.get(UserRow, row.coordinator_id) if row.coordinator_id is not None else None
        assert team is not None
        return Assignment(
            patient_id, team.name, user.name if user else None, row.assigned_at, row.assigned_by
        )

    def caseload(self, coordinator_id: int, team_id: int | None) -> list[int]:
        query = columns(_A.c.patient_id).where(_A.c.coordinator_id == coordinator_id)
        if team_id is not None:
            query = query.where(_A.c.team_id == team_id)
        return [int(r[0]) for r in self.session.execute(query.order_by(_A.c.patient_id))]

    def mrns(self, team_ids: Collection[int] | None, coordinator_id: int | None) -> set[str]:
        conditions = []
        if team_ids is not None:
            conditions.append(_A.c.team_id.in_(sorted(team_ids)))
        if coordinator_id is not None:
            conditions.append(_A.c.coordinator_id == coordinator_id)
        if not conditions:
            return set()
        query = columns(_P.c.mrn).join(_A, _A.c.patient_id == _P.c.id).where(or_(*conditions))
        return {r[0] for r in self.session.execute(query)}

    def shared(self, team_ids: Collection[int]) -> set[str]:
        if not team_ids:
            return set()
        query = (
            columns(_P.c.mrn)
            .join(_A, _A.c.patient_id == _P.c.id)
            .where(_A.c.team_id.in_(sorted(team_ids)), _A.c.coordinator_id.is_(None))
        )
        return {r[0] for r in self.session.execute(query)}

    def targets(self, patient_ids: Collection[int]) -> dict[int, Team]:
        ids = sorted(set(patient_ids))
        if not ids:
            return {}
        out: dict[int, Team] = {}
        teams: dict[int, Team] = {}
        conn = connection(self.session)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            ahead = pipeline.take(conn, "team", chunk[0]) if len(chunk) == 1 else None
            rows = (
                ahead
                if ahead is not None
                else (
                    _TARGET_OF.rows(conn, {"pid": chunk[0]})
                    if len(chunk) == 1
                    else conn.execute(_TARGETS_OF, {"pids": chunk})
                )
            )
            for pid, team_id, name, channel, to, floor in rows:
                if team_id not in teams:
                    teams[team_id] = Team(team_id, name, channel, to, floor)
                out[int(pid)] = teams[team_id]
        return out
