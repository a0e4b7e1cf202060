"""The notification outbox: claims that never hand one row to two dispatchers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from db.fast import Prebuilt
from db.repository import connection
from db.tables import AlertRow, NotificationAttemptRow, NotificationRow
from db.tracking import _dialect, _insert
from pathway.domain.model import Notification
from pathway.domain.records import DeliveryOutcome, NewNotification, NotificationStatus
from pathway.domain.rows import AttemptRow


def to_notification(r: NotificationRow) -> Notification:
    assert r.id is not None
    return Notification(
        id=r.id,
        alert_id=r.alert_id,
        patient_id=r.patient_id,
        channel=r.channel,
        recipient=r.recipient,
        idempotency_key=r.idempotency_key,
        digest=r.digest,
        status=r.status,
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        payload=dict(r.payload or {}),
        last_error=r.last_error,
        sent_at=r.sent_at,
    )


_N = NotificationRow.__table__  # type: ignore[attr-defined]
_ADD = {  # built once; no RETURNING: nothing to wait for under pipeline mode (db.pipeline)
    name: Prebuilt(ins(_N).on_conflict_do_nothing(index_elements=["idempotency_key"]), dml=True)
    for name, ins in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


class SqlNotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, values: list[NewNotification]) -> None:
        """Outbox rows; one whose idempotency key is there already is skipped."""
        rows = [v.values() for v in values]
        if rows and len({frozenset(r) for r in rows}) == 1:
            conn = connection(self.session)
            _ADD[_dialect(conn)].run_many(conn, rows)
            return
        if values:
            t = NotificationRow.__table__  # type: ignore[attr-defined]
            self.session.execute(
                _insert(self.session)(t).on_conflict_do_nothing(index_elements=["idempotency_key"]),
                [v.values() for v in values],
            )

    def existing_keys(self, keys: list[str]) -> set[str]:
        """Which of these idempotency keys are in the outbox already (along its unique index)."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            query = select(NotificationRow.idempotency_key).where(
                col(NotificationRow.idempotency_key).in_(keys[start : start + 500])
            )
            found.update(self.session.execute(query).scalars())
        return found

    def claim_due(self, now: datetime, limit: int) -> list[Notification]:
        """The most urgent due notifications first: critical, then warning, then info, each oldest
        first, so a catch-up's warnings never hold back a critical page."""
        urgency = case({"critical": 0, "warning": 1}, value=col(AlertRow.severity), else_=2)
        query = (
            select(NotificationRow)
            .join(AlertRow, col(AlertRow.id) == col(NotificationRow.alert_id))
            .where(col(NotificationRow.status) == "pending", col(NotificationRow.next_attempt_at) <= now)
            .order_by(urgency, col(NotificationRow.next_attempt_at), col(NotificationRow.id))
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=NotificationRow)
        claimed: list[Notification] = []
        for row in self.session.exec(query).all():
            assert row.id is not None
            if self.finish(
                row.id,
                NotificationStatus.PENDING,
                DeliveryOutcome(NotificationStatus.SENDING, claimed_at=now),
            ):
                claimed.append(to_notification(row))
        return claimed

    def renew_claims(self, notification_ids: list[int], at: datetime) -> None:
        """Heartbeat: the dispatcher still works on these, so no other may take them over."""
        if notification_ids:
            self.session.execute(
                update(NotificationRow)
                .where(
                    col(NotificationRow.id).in_(notification_ids), col(NotificationRow.status) == "sending"
                )
                .values(claimed_at=at)
            )

    def requeue_dead(self, notification_ids: list[int] | None, at: datetime) -> list[int]:
        """Dead notifications (all, or these) back to pending for another round of attempts."""
        query = select(NotificationRow.id).where(col(NotificationRow.status) == "dead")
        if notification_ids is not None:
            query = query.where(col(NotificationRow.id).in_(notification_ids))
        ids = sorted(self.session.execute(query).scalars())
        if ids:
            self.session.execute(
                update(NotificationRow)
                .where(col(NotificationRow.id).in_(ids), col(NotificationRow.status) == "dead")
                .values(status="pending", attempts=0, next_attempt_at=at, claimed_at=None)
            )
        return ids

    def release_stale(self, claimed_before: datetime) -> int:
        """Rows left `sending` by a crashed dispatcher go back to pending (same idempotency key)."""
        result = self.session.execute(
            update(NotificationRow)
            .where(col(NotificationRow.status) == "sending", col(NotificationRow.claimed_at) < claimed_before)
            .values(status="pending", claimed_at=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def finish(self, notification_id: int, status: str, outcome: DeliveryOutcome) -> bool:
        result = self.session.execute(
            update(NotificationRow)
            .where(col(NotificationRow.id) == notification_id, col(NotificationRow.status) == status)
            .values(**outcome.values())
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def attempt(self, notification_id: int, at: datetime, outcome: str, error: str | None) -> None:
        self.session.add(
            NotificationAttemptRow(notification_id=notification_id, at=at, outcome=outcome, error=error)
        )
        self.session.flush()

    def listing(self, statuses: tuple[str, ...] | None, alert_id: int | None = None) -> list[Notification]:
        query = select(NotificationRow).order_by(col(NotificationRow.id))
        if statuses:
            query = query.where(col(NotificationRow.status).in_(statuses))
        if alert_id is not None:
            query = query.where(NotificationRow.alert_id == alert_id)
        return [to_notification(r) for r in self.session.exec(query).all()]

    def attempts_of(self, notification_id: int) -> list[AttemptRow]:
        rows = self.session.exec(
            select(NotificationAttemptRow)
            .where(NotificationAttemptRow.notification_id == notification_id)
            .order_by(col(NotificationAttemptRow.id))
        ).all()
        return [AttemptRow(r.at, r.outcome, r.error) for r in rows]
