"""Applied pathway versions (change control): recorded by `pathway pathway-apply` and `init`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.tables import PathwayVersionRow
from pathway.ports import PathwayVersion


def _record(row: PathwayVersionRow) -> PathwayVersion:
    return PathwayVersion(
        number=row.number,
        pathway_id=row.pathway_id,
        content_hash=row.content_hash,
        label=row.label,
        applied_at=row.applied_at,
        applied_by=row.applied_by,
        approved_by=row.approved_by,
        note=row.note,
        changes=list(row.changes),
        text=row.text,
        rederived_at=row.rederived_at,
    )


class SqlPathwayVersionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, pathway_id: str) -> PathwayVersion | None:
        row = self.session.exec(
            select(PathwayVersionRow)
            .where(PathwayVersionRow.pathway_id == pathway_id)
            .order_by(col(PathwayVersionRow.number).desc())
        ).first()
        return _record(row) if row else None

    def listing(self, pathway_id: str) -> list[PathwayVersion]:
        rows = self.session.exec(
            select(PathwayVersionRow)
            .where(PathwayVersionRow.pathway_id == pathway_id)
            .order_by(col(PathwayVersionRow.number).desc())
        ).all()
        return [_record(r) for r in rows]

    def add(self, version: PathwayVersion) -> None:
        self.session.add(
            PathwayVersionRow(
                pathway_id=version.pathway_id,
                number=version.number,
                content_hash=version.content_hash,
                label=version.label[:64],
                applied_at=version.applied_at,
                applied_by=version.applied_by,
                approved_by=version.approved_by,
                note=version.note,
                changes=version.changes,
                text=version.text,
                rederived_at=version.rederived_at,
            )
        )
        self.session.flush()

    def mark_rederived(self, pathway_id: str, number: int, at: datetime) -> None:
        self.session.execute(
            update(PathwayVersionRow)
            .where(col(PathwayVersionRow.pathway_id) == pathway_id, col(PathwayVersionRow.number) == number)
            .values(rederived_at=at)
        )
