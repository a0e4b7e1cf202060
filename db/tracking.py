"""Follow-up and alert rows: idempotent inserts, compare-and-set updates, sweep and worklist queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from db.tables import AlertActionRow, AlertRow, FollowUpRow, PatientRow
from pathway.domain.model import StoredAlert, StoredFollowUp

OPEN_FOLLOW_UP = ("upcoming", "due", "overdue")
LIVE_ALERT = ("open", "acknowledged", "snoozed")


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def to_follow_up(r: FollowUpRow) -> StoredFollowUp:
    assert r.id is not None
    return StoredFollowUp(
        id=r.id, patient_id=r.patient_id, rule=r.rule, region=r.region, anchor_at=r.anchor_at,
        anchor_label=r.anchor_label, opens_at=r.opens_at, target_at=r.target_at,
        closes_at=r.closes_at, clock_time=r.clock_time, status=r.status, done_at=r.done_at,
        late_days=r.late_days, early=r.early, cancel_reason=r.cancel_reason,
        notes=list(r.notes or []), next_check_at=r.next_check_at)


def to_alert(r: AlertRow) -> StoredAlert:
    assert r.id is not None
    return StoredAlert(
        id=r.id, patient_id=r.patient_id, rule=r.rule, instance_key=r.instance_key,
        severity=r.severity, status=r.status, message=r.message, source=r.source,
        opened_at=r.opened_at, follow_up_id=r.follow_up_id, held=r.held, urgent=r.urgent,
        snoozed_until=r.snoozed_until, override_until=r.override_until,
        resolved_at=r.resolved_at, resolution=r.resolution, acted_by=r.acted_by, note=r.note,
        states_at_fire=dict(r.states_at_fire or {}))


class SqlFollowUpRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_patient(self, patient_id: int) -> list[StoredFollowUp]:
        rows = self.session.exec(select(FollowUpRow).where(FollowUpRow.patient_id == patient_id)
                                 .order_by(col(FollowUpRow.closes_at))).all()
        return [to_follow_up(r) for r in rows]

    def insert(self, values: list[dict[str, Any]]) -> int:
        if not values:
            return 0
        stmt = _insert(self.session)(FollowUpRow).values(values).on_conflict_do_nothing(
            index_elements=["patient_id", "rule", "region", "anchor_at"])
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def update(self, follow_up_id: int, expected_status: str, values: dict[str, Any]) -> bool:
        result = self.session.execute(
            update(FollowUpRow).where(col(FollowUpRow.id) == follow_up_id,
                                      col(FollowUpRow.status) == expected_status).values(**values))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def patients_to_check(self, now: datetime, limit: int) -> list[int]:
        follow = select(FollowUpRow.patient_id).where(col(FollowUpRow.next_check_at) <= now)
        alerts = select(AlertRow.patient_id).where(or_(
            and_(col(AlertRow.status) == "snoozed", col(AlertRow.snoozed_until) <= now),
            and_(col(AlertRow.status) == "overridden", col(AlertRow.override_until) <= now)))
        ids = {pid for (pid,) in self.session.execute(follow.distinct().limit(limit))}
        ids |= {pid for (pid,) in self.session.execute(alerts.distinct().limit(limit))}
        return sorted(ids)[:limit]

    def worklist(self, statuses: tuple[str, ...], until: datetime
                 ) -> list[tuple[StoredFollowUp, str]]:
        query = (
            select(FollowUpRow, PatientRow.mrn)
            .join(PatientRow, col(PatientRow.id) == col(FollowUpRow.patient_id))
            .where(col(FollowUpRow.status).in_(statuses), col(FollowUpRow.opens_at) <= until)
            .order_by(col(FollowUpRow.closes_at)))
        return [(to_follow_up(r), mrn) for r, mrn in self.session.execute(query)]


class SqlAlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_patient(self, patient_id: int) -> list[StoredAlert]:
        rows = self.session.exec(select(AlertRow).where(AlertRow.patient_id == patient_id)
                                 .order_by(col(AlertRow.id))).all()
        return [to_alert(r) for r in rows]

    def get(self, alert_id: int) -> StoredAlert | None:
        row = self.session.get(AlertRow, alert_id)
        return to_alert(row) if row else None

    def insert(self, values: dict[str, Any]) -> int | None:
        stmt = (_insert(self.session)(AlertRow).values(**values)
                .on_conflict_do_nothing(index_elements=["patient_id", "rule", "instance_key",
                                                        "severity"])
                .returning(col(AlertRow.id)))
        row = self.session.execute(stmt).first()
        return int(row[0]) if row else None

    def update(self, alert_id: int, expected_status: str, values: dict[str, Any]) -> bool:
        result = self.session.execute(
            update(AlertRow).where(col(AlertRow.id) == alert_id,
                                   col(AlertRow.status) == expected_status).values(**values))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def listing(self, statuses: tuple[str, ...] | None, mrn: str | None = None
                ) -> list[tuple[StoredAlert, str]]:
        query = select(AlertRow, PatientRow.mrn).join(
            PatientRow, col(PatientRow.id) == col(AlertRow.patient_id))
        if statuses:
            query = query.where(col(AlertRow.status).in_(statuses))
        if mrn:
            query = query.where(col(PatientRow.mrn) == mrn)
        return [(to_alert(r), m) for r, m in self.session.execute(query.order_by(col(AlertRow.id)))]

    def add_action(self, alert_id: int, action: str, actor: str, at: datetime,
                   note: str | None = None, data: dict[str, Any] | None = None) -> None:
        self.session.add(AlertActionRow(alert_id=alert_id, action=action, actor=actor, at=at,
                                        note=note, data=data or {}))
        self.session.flush()

    def actions(self, alert_id: int) -> list[tuple[str, str, datetime, str | None]]:
        rows = self.session.exec(select(AlertActionRow).where(AlertActionRow.alert_id == alert_id)
                                 .order_by(col(AlertActionRow.id))).all()
        return [(r.action, r.actor, r.at, r.note) for r in rows]
