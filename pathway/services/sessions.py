"""Web sessions kept server-side: the browser holds a random id, the database its hash, the user,
when it began, when it was last used and whether it was ended.

A session ends at sign-out, when its user is revoked or gets a new token, after `idle` without a
request and at the latest `lifetime` after sign-in. Its last use is written at most once a
minute, so that reading pages does not take the write lock on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pathway.ports import Deps, User
from pathway.services import audit
from pathway.services.accounts import NotSignedIn

TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def begin(deps: Deps, user: User) -> str:
    """A new session for the user (signed in just now); returns its id, for the cookie only."""
    session_id = secrets.token_urlsafe(32)
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.sessions.add(_hash(session_id), user.id, now)
        audit.note(uow, now, user.name, "sign_in", None)
        uow.commit()
    return session_id


def user_of(deps: Deps, session_id: str, limits: Lifetimes) -> User:
    """The user of a live session; raises NotSignedIn when it is unknown, ended or expired."""
    now = deps.clock.now()
    key = _hash(session_id)
    with deps.read() as uow:
        session = uow.sessions.get(key)
        user = uow.users.by_id(session.user_id) if session is not None else None
    if (
        session is None
        or user is None
        or session.revoked_at is not None
        or not user.usable(now)
        or now - session.last_seen_at >= limits.idle
        or now - session.created_at >= limits.absolute
    ):
        raise NotSignedIn("your session has ended; sign in again")
    if now - session.last_seen_at >= TOUCH_EVERY:
        with deps.uow() as uow:
            uow.sessions.touch(key, now)
            uow.commit()
    return user


def end(deps: Deps, session_id: str, user: User) -> None:
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.sessions.revoke(_hash(session_id), now)
        audit.note(uow, now, user.name, "sign_out", None)
        uow.commit()
