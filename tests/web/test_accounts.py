"""Accounts on SQLite and PostgreSQL: tokens issued once and kept as hashes, revocation, roles."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from sqlalchemy import Engine, text

from pathway.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pathway.ports import Deps
from pathway.services import accounts, alerting
from pathway.services.accounts import NotSignedIn
from pathway.web.schemas import OverrideReason, Role
from tests.conftest import _reset_pg
from tests.fakes import FixedClock


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both storages, each test on an empty database (unlike the other web tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pathway.db'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_pg(url)
    return url


def test_a_token_is_shown_once_and_stored_as_its_hash(deps: Deps, engine: Engine) -> None:
    issued = accounts.add_user(deps, "j.smith", "coordinator")
    assert len(issued.token) >= 40
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT name, role, token_hash FROM app_user")).one()
    assert tuple(stored) == ("j.smith", "coordinator", accounts.hash_token(issued.token))
    user = accounts.authenticate(deps, f"  {issued.token} ")
    assert (user.name, user.role, user.active) == ("j.smith", "coordinator", True)


def test_a_revoked_token_and_its_sessions_stop_working(deps: Deps, clock: FixedClock) -> None:
    issued = accounts.add_user(deps, "j.smith", "viewer")
    clock.advance(hours=1)
    revoked = accounts.revoke_user(deps, "j.smith")
    assert revoked.revoked_at == clock.current and not revoked.active
    with pytest.raises(NotSignedIn, match="revoked"):
        accounts.authenticate(deps, issued.token)
    with pytest.raises(NotSignedIn, match="session has ended"):
        accounts.signed_in(deps, issued.user.id)
    with pytest.raises(Conflict, match="already revoked"):
        accounts.revoke_user(deps, "j.smith")
    with pytest.raises(Conflict, match="names are never reused"):
        accounts.add_user(deps, "j.smith", "viewer")


def test_users_are_listed_by_name(deps: Deps) -> None:
    for name, role in (("b.admin", "admin"), ("a.viewer", "viewer")):
        accounts.add_user(deps, name, role)
    assert [(u.name, u.role) for u in accounts.list_users(deps)] == [
        ("a.viewer", "viewer"),
        ("b.admin", "admin"),
    ]


@pytest.mark.parametrize(
    ("name", "role", "error"),
    [
        ("j smith", "viewer", InvalidInput),
        ("", "viewer", InvalidInput),
        ("j.smith", "superuser", InvalidInput),
        ("x" * 65, "viewer", InvalidInput),
    ],
)
def test_bad_names_and_roles_are_refused(deps: Deps, name: str, role: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        accounts.add_user(deps, name, role)
    assert accounts.list_users(deps) == []


def test_unknown_tokens_users_and_sessions(deps: Deps) -> None:
    for token in ("", "nope", "x" * 500):
        with pytest.raises(NotSignedIn):
            accounts.authenticate(deps, token)
    with pytest.raises(NotSignedIn):
        accounts.signed_in(deps, 12345)
    with pytest.raises(NotFound):
        accounts.revoke_user(deps, "nobody")


# --- what each role may do (no database) ----------------------------------------------------------

EXPECTED = {
    "viewer": {"read"},
    "coordinator": {"read", "enrol", "record", "acknowledge", "snooze", "override", "assign"},
    "clinician": {
        "read",
        "enrol",
        "record",
        "acknowledge",
        "snooze",
        "override",
        "override_critical",
        "record_decision",
        "apply_pathway",
        "assign",
    },
    "admin": set(accounts.PERMISSIONS),
}


@pytest.mark.parametrize("role", accounts.ROLES)
def test_each_role_has_exactly_its_permissions(role: str) -> None:
    assert set(accounts.permissions(role)) == EXPECTED[role]


def test_an_mdt_decision_needs_a_clinician_or_admin() -> None:
    assert [r for r in accounts.ROLES if accounts.may_record(r, "mdt_decision")] == ["clinician", "admin"]
    assert [r for r in accounts.ROLES if accounts.may_record(r, "imaging_done")] == [
        "coordinator",
        "clinician",
        "admin",
    ]


def test_a_refusal_names_the_user_the_role_and_what_is_needed(deps: Deps) -> None:
    viewer = accounts.add_user(deps, "v.one", "viewer").user
    with pytest.raises(PermissionDenied) as refused:
        accounts.require(viewer, "record")
    assert str(refused.value) == (
        "v.one is a viewer: record needs the role coordinator or clinician or admin"
    )


@pytest.mark.parametrize("role", accounts.ROLES)
def test_retracting_an_event_needs_the_role_that_may_record_it(role: str) -> None:
    from pathway.domain.roles import event_refusal

    may_decide = role in ("clinician", "admin")
    assert (event_refusal(role, "retraction", "mdt_decision") is None) == may_decide
    assert (event_refusal(role, "mdt_decision") is None) == may_decide
    assert (event_refusal(role, "retraction", "pain_score") is None) == (role != "viewer")


def test_the_api_schema_lists_the_same_roles_and_reasons() -> None:
    assert get_args(Role) == accounts.ROLES
    assert get_args(OverrideReason) == alerting.OVERRIDE_REASONS
