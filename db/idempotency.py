"""Stored answers to POSTs sent with an `Idempotency-Key` (per user), so a retry is answered, not redone.

A row is claimed (no status yet) before the request runs and completed with its response after; a
second request with the same key finds the claim (still running: refused) or the stored response
(replayed). Rows older than the retention period count as absent and are deleted as new keys come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Engine, Index, LargeBinary, delete, update
from sqlalchemy import select as columns
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel


class IdempotencyKeyRow(SQLModel, table=True):
    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_created_at", "created_at"),)

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    created_at: datetime
    status: int | None = None
    headers: list[list[str]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


_K = IdempotencyKeyRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Stored:
    request_hash: str
    status: int | None  # None: the first request is still running
    headers: list[tuple[str, str]]
    body: bytes


def _insert(engine: Engine) -> Any:
    return pg_insert if engine.dialect.name == "postgresql" else sqlite_insert


def claim(
    engine: Engine, user_id: int, key: str, request_hash: str, now: datetime, keep: timedelta
) -> Stored | None:
    """Claim the key for this request (None), or what an earlier request with it left (Stored)."""
    expired = now - keep
    with engine.begin() as conn:
        conn.execute(delete(_K).where(_K.c.created_at < expired))
        claimed = conn.execute(
            _insert(engine)(_K)
            .values(user_id=user_id, key=key, request_hash=request_hash, created_at=now)
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
            .returning(_K.c.user_id)
        ).first()
        if claimed is not None:
            return None
        row = conn.execute(
            columns(_K.c.request_hash, _K.c.status, _K.c.headers, _K.c.body).where(
                _K.c.user_id == user_id, _K.c.key == key
            )
        ).one()
    return Stored(row[0], row[1], [(str(k), str(v)) for k, v in row[2] or []], bytes(row[3] or b""))


def complete(
    engine: Engine, user_id: int, key: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(_K)
            .where(_K.c.user_id == user_id, _K.c.key == key)
            .values(status=status, headers=[list(h) for h in headers], body=body)
        )


def release(engine: Engine, user_id: int, key: str) -> None:
    """Forget a claim whose request failed on our side (5xx): the client may retry with the key."""
    with engine.begin() as conn:
        conn.execute(delete(_K).where(_K.c.user_id == user_id, _K.c.key == key, _K.c.status.is_(None)))
