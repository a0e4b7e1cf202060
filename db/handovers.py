"""Hand-over summaries: written once with the exit event, read back as stored."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from db.tables import HandoverRow
from pathway.domain.records import HandoverSummary


class SqlHandoverRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, patient_id: int, event_id: int, at: datetime, summary: HandoverSummary) -> None:
        self.session.add(
            HandoverRow(patient_id=patient_id, event_id=event_id, created_at=at, summary=summary)
        )
        self.session.flush()

    def latest(self, patient_id: int) -> HandoverSummary | None:
        row = self.session.exec(
            select(HandoverRow)
            .where(HandoverRow.patient_id == patient_id)
            .order_by(col(HandoverRow.id).desc())
        ).first()
        return dict(row.summary) if row else None
