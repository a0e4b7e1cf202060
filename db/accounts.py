"""Users (hashed API tokens) and the shared application settings such as the session secret."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from db.tables import AppSettingRow, UserRow
from db.tracking import _insert
from pathway.ports import User

SESSION_SECRET = "session_secret"


def to_user(row: UserRow) -> User:
    assert row.id is not None
    return User(id=row.id, name=row.name, role=row.role, created_at=row.created_at, revoked_at=row.revoked_at)


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str, role: str, token_hash: str, at: datetime) -> User:
        row = UserRow(name=name, role=role, token_hash=token_hash, created_at=at)
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


def shared_secret(engine: Engine, at: datetime, key: str = SESSION_SECRET) -> str:
    """The stored secret under `key`, generated and stored by the first process that asks."""
    with Session(engine) as session:
        stmt = (
            _insert(session)(AppSettingRow)
            .values(key=key, value=secrets.token_urlsafe(48), created_at=at)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        session.execute(stmt)
        session.commit()
        row = session.get(AppSettingRow, key)
        assert row is not None
        return row.value
