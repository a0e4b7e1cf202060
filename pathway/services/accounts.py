"""Accounts and roles: who may sign in (by API token) and what each role may do.

Tokens are shown once when issued and stored only as a SHA-256 hash. Every write a user makes is
recorded under their name (the `actor` of an event, the `by` of an alert action).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pathway.domain.errors import Conflict, InvalidInput, NotFound, PathwayError, PermissionDenied
from pathway.domain.roles import DECISION_EVENTS, PERMISSIONS, ROLES, allows, event_refusal
from pathway.ports import Deps, UnitOfWork, User
from pathway.services import audit

__all__ = ["DECISION_EVENTS", "PERMISSIONS", "ROLES", "allows"]

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class NotSignedIn(PathwayError):
    """No token, or a token that is unknown or revoked."""


@dataclass(frozen=True)
class IssuedToken:
    user: User
    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    deps: Deps, name: str, role: str, by: str | None = None, expires_in_days: int | None = None
) -> IssuedToken:
    """Create a user with a fresh token (shown once), valid for `expires_in_days` days if given;
    `by` is the acting admin (for the audit trail). Raises InvalidInput or Conflict."""
    name = _valid_name(name)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise InvalidInput("--expires-in-days must be between 1 and 3650")
    token = secrets.token_urlsafe(32)
    now = deps.clock.now()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days is not None else None
    with deps.uow() as uow:
        existing = uow.users.by_name(name)
        if existing is not None:
            was = "" if existing.active else " (revoked; names are never reused)"
            raise Conflict(f"user {name} already exists{was}")
        user = uow.users.add(name, role, hash_token(token), now, expires_at)
        audit.note(uow, now, by or "system", "user_add", None, user=name, role=role)
        uow.commit()
    return IssuedToken(user=user, token=token)


def list_users(deps: Deps) -> list[User]:
    with deps.read() as uow:
        return uow.users.listing()


def revoke_user(deps: Deps, name: str, by: str | None = None) -> User:
    """Revoke a user's token at once (their sessions end too); `by` is the acting admin, who may
    not revoke their own account. Raises NotFound or Conflict."""
    now = deps.clock.now()
    with deps.uow() as uow:
        user = uow.users.by_name(name.strip())
        if user is None:
            raise NotFound(f"no user {name.strip()!r}; see `pathway users list`")
        if by is not None and user.name == by:
            raise Conflict(f"{by} cannot revoke their own account; ask another admin")
        if (
            user.active
            and user.role == "admin"
            and not any(u.active and u.role == "admin" and u.id != user.id for u in uow.users.listing())
        ):
            raise Conflict(
                f"user {user.name} is the last active admin: add another admin first "
                "(`pathway users add NAME --role admin`), or nobody could manage accounts"
            )
        if not uow.users.revoke(user.id, now):
            raise Conflict(f"user {user.name} is already revoked")
        uow.sessions.revoke_user(user.id, now)
        audit.note(uow, now, by or "system", "user_revoke", None, user=user.name)
        revoked = uow.users.by_id(user.id)
        uow.commit()
    assert revoked is not None
    return revoked


def reset_token(deps: Deps, name: str, by: str | None = None) -> IssuedToken:
    """A new token for the user (shown once); the old one stops working at once and a revoked
    user is active again, under the same name (names stay unique for the record)."""
    token = secrets.token_urlsafe(32)
    with deps.uow() as uow:
        user = _existing(uow, name)
        uow.users.reset_token(user.id, hash_token(token))
        now = deps.clock.now()
        uow.sessions.revoke_user(user.id, now)  # sessions begun with the old token end with it
        audit.note(uow, now, by or "system", "user_reset_token", None, user=user.name)
        updated = uow.users.by_id(user.id)
        uow.commit()
    assert updated is not None
    return IssuedToken(updated, token)


def set_role(deps: Deps, name: str, role: str, by: str | None = None) -> User:
    """Change a user's role; an admin cannot change their own, and the last admin keeps theirs."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    with deps.uow() as uow:
        user = _existing(uow, name)
        if by is not None and user.name == by:
            raise Conflict(f"{by} cannot change their own role; ask another admin")
        if user.role == role:
            raise Conflict(f"user {user.name} is already a {role}")
        if user.role == "admin" and user.active and not _other_active_admin(uow, user.id):
            raise Conflict(f"user {user.name} is the last active admin: make another admin first")
        uow.users.set_role(user.id, role)
        audit.note(uow, deps.clock.now(), by or "system", "user_set_role", None, user=user.name, role=role)
        updated = uow.users.by_id(user.id)
        uow.commit()
    assert updated is not None
    return updated


def _existing(uow: UnitOfWork, name: str) -> User:
    user = uow.users.by_name(name.strip())
    if user is None:
        raise NotFound(f"no user {name.strip()!r}; see `pathway users list`")
    return user


def _other_active_admin(uow: UnitOfWork, user_id: int) -> bool:
    return any(u.active and u.role == "admin" and u.id != user_id for u in uow.users.listing())


def authenticate(deps: Deps, token: str) -> User:
    """The active user holding this token; raises NotSignedIn."""
    token = token.strip()
    if not token or len(token) > 200:
        raise NotSignedIn("sign in with your API token")
    with deps.read() as uow:  # a reader: a token check never waits for a writer's lock
        user = uow.users.by_token_hash(hash_token(token))
    if user is None or not user.usable(deps.clock.now()):
        raise NotSignedIn(
            "this token is not valid, has expired or has been revoked; ask an admin for a new one"
        )
    return user


def token_holder(deps: Deps, token: str | None) -> str:
    """The name of the account whose token this is, for commands about "me" (`due --mine`)."""
    if not token or not token.strip():
        raise NotSignedIn(f"--mine needs your account: set {TOKEN_VARIABLE} to your API token")
    return authenticate(deps, token).name


def holder_of(deps: Deps, token: str) -> str | None:
    """The name of the account this (refused) token belongs to, if any: revoked or expired."""
    token = token.strip()
    if not token or len(token) > 200:
        return None
    with deps.read() as uow:
        user = uow.users.by_token_hash(hash_token(token))
    return user.name if user is not None else None


def signed_in(deps: Deps, user_id: int) -> User:
    """The user behind a web session, checked again on every request (revocation ends it)."""
    with deps.read() as uow:
        user = uow.users.by_id(user_id)
    if user is None or not user.usable(deps.clock.now()):
        raise NotSignedIn("your session has ended; sign in again")
    return user


def permissions(role: str) -> list[str]:
    return [action for action, roles in PERMISSIONS.items() if role in roles]


def require(user: User, action: str) -> None:
    """Raise PermissionDenied unless the user's role allows the action."""
    if not allows(user.role, action):
        roles = " or ".join(PERMISSIONS.get(action, ("nobody",)))
        raise PermissionDenied(
            f"{user.name} is a {user.role}: {action.replace('_', ' ')} needs the role {roles}"
        )


def may_record(role: str, event: str) -> bool:
    return event_refusal(role, event) is None


def _valid_name(name: str) -> str:
    name = name.strip()
    if not USER_NAME.match(name):
        raise InvalidInput(
            f"user name {name!r} is not valid: use 1-64 letters, digits, '.', '_', "
            "'@' or '-', starting with a letter or digit"
        )
    return name


LOCAL_ADMIN = "admin"
"""The role of the person at the terminal while the database has no user accounts at all."""
TOKEN_VARIABLE = "PATHWAY_TOKEN"


@dataclass(frozen=True)
class Actor:
    """Who a command-line write acts as: the name recorded, the role that decides what it may do."""

    name: str
    role: str


def command_line_actor(
    deps: Deps, token: str | None, by: str | None, role: str | None, action: str, default_name: str
) -> Actor:
    """Who a CLI write acts as.

    With no user accounts (a fresh single-user install, the demo) it is the person at the
    terminal, as `--by` (default `default_name`) with `--role` (default the local administrator).
    Once accounts exist it is the account whose token is in PATHWAY_TOKEN: its name is the actor
    and its role decides; `--by` and `--role` are refused, since a name or role typed at the
    terminal would let anyone act as a clinician.
    """
    if by is not None and not by.strip():
        raise InvalidInput("--by needs the name of the person acting (1-100 characters), or leave it out")
    with deps.read() as uow:
        has_accounts = bool(uow.users.listing())
    if not has_accounts:
        if role is not None and role not in ROLES:
            raise InvalidInput(f"--role must be one of {', '.join(ROLES)}")
        return Actor(by if by is not None else default_name, role or LOCAL_ADMIN)
    given = [flag for flag, value in (("--by", by), ("--role", role)) if value is not None]
    if given:
        raise InvalidInput(
            f"{' and '.join(given)} cannot be used once the database has user accounts: the command "
            f"acts as the account whose token is in {TOKEN_VARIABLE}"
        )
    if not token or not token.strip():
        raise NotSignedIn(
            f"this database has user accounts: set {TOKEN_VARIABLE} to your API token to act "
            "(an admin issues one with `pathway users add`)"
        )
    user = authenticate(deps, token)
    require(user, action)
    return Actor(user.name, user.role)
