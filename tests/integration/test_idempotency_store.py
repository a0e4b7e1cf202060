"""The idempotency-key store on SQLite and PostgreSQL: claim once, complete, replay, expire, release."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from db import idempotency as store
from pathway.ports import Deps
from pathway.services import accounts
from tests.fakes import utc

NOW, DAY = utc(2026, 3, 2, 9), timedelta(hours=24)


def test_a_key_is_claimed_once_then_replayed_then_expires(engine: Engine, deps: Deps) -> None:
    user = accounts.add_user(deps, "c.one", "coordinator").user

    assert store.claim(engine, user.id, "k1", "hash-a", NOW, DAY) is None
    running = store.claim(engine, user.id, "k1", "hash-a", NOW, DAY)
    assert running is not None and running.status is None

    store.complete(engine, user.id, "k1", 201, [("location", "/api/v1/patients/X")], b'{"id": 1}')
    done = store.claim(engine, user.id, "k1", "hash-b", NOW + timedelta(hours=1), DAY)
    assert done == store.Stored("hash-a", 201, [("location", "/api/v1/patients/X")], b'{"id": 1}')

    assert store.claim(engine, user.id, "k1", "hash-c", NOW + DAY + timedelta(seconds=1), DAY) is None


def test_a_released_claim_can_be_claimed_again(engine: Engine, deps: Deps) -> None:
    user = accounts.add_user(deps, "c.two", "coordinator").user
    assert store.claim(engine, user.id, "k2", "h", NOW, DAY) is None
    store.release(engine, user.id, "k2")
    assert store.claim(engine, user.id, "k2", "h", NOW, DAY) is None
