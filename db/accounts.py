"""Users (hashed API tokens) and the shared application settings (e.g. whether this is the demo)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from db.tables import AppSettingRow, UserRow
from db.tracking import _insert
from pathway.ports import User


def to_user(row: UserRow) -> User:
    assert row.id is not None
    return User(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
    )


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, name: str, role: str, token_hash: str, at: datetime, expires_at: datetime | None = None
    ) -> User:
        row = UserRow(name=name, role=role, token_hash=token_hash, created_at=at, expires_at=expires_at)
        self.session.add(row)
        self.session.flush()
        return to_user(row)

    def by_id(self, user_id: int) -> User | None:
        row = self.session.get(UserRow, user_id)
        return to_user(row) if row else None

    def by_name(self, name: str) -> User | None:
        row = self.session.exec(select(UserRow).where(UserRow.name == name)).first()
        return to_user(row) if row else None

    def by_token_hash(self, token_hash: str) -> User | None:
        row = self.session.exec(select(UserRow).where(UserRow.token_hash == token_hash)).first()
        return to_user(row) if row else None

    def listing(self) -> list[User]:
        rows = self.session.exec(select(UserRow).order_by(col(UserRow.name))).all()
        return [to_user(r) for r in rows]

    def revoke(self, user_id: int, at: datetime) -> bool:
        result = self.session.execute(
            update(UserRow)
            .where(col(UserRow.id) == user_id, col(UserRow.revoked_at).is_(None))
            .values(revoked_at=at)
        )
        self.session.expire_all()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def reset_token(self, user_id: int, token_hash: str) -> None:
        self.session.execute(
            update(UserRow).where(col(UserRow.id) == user_id).values(token_hash=token_hash, revoked_at=None)
        )
        self.session.expire_all()

    def set_role(self, user_id: int, role: str) -> None:
        self.session.execute(update(UserRow).where(col(UserRow.id) == user_id).values(role=role))
        self.session.expire_all()


DEMO = "demo"


def mark_demo(engine: Engine, at: datetime) -> None:
    """Remember that this database was initialised with `--demo` (the web app may then run with
    an ephemeral session secret)."""
    with Session(engine) as session:
        stmt = (
            _insert(session)(AppSettingRow)
            .values(key=DEMO, value="1", created_at=at)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        session.execute(stmt)
        session.commit()


def is_demo(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.get(AppSettingRow, DEMO) is not None
