"""Sessions are server-side and end (issue 17 items 2, 3); sign-in is throttled (item 4)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import itsdangerous
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from pathway.bootstrap import App
from pathway.domain.errors import InvalidInput
from pathway.ports import Deps
from pathway.services import accounts
from pathway.settings import load_settings, web_secret
from tests.fakes import FixedClock
from tests.web.conftest import bearer, csrf_of, sign_in

COOKIE = "pathway_session"


def cookie_signed_with(secret: str, content: dict[str, object]) -> str:
    """A session cookie as Starlette's SessionMiddleware makes one (what an attacker would forge)."""
    data = base64.b64encode(json.dumps(content).encode())
    return itsdangerous.TimestampSigner(secret).sign(data).decode()


def test_after_logout_the_old_cookie_reads_and_does_nothing(client: TestClient, signed_in: str) -> None:
    old = client.cookies.get(COOKIE)
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": signed_in}).status_code == 303
    client.cookies.set(COOKIE, old)  # the stolen or kept copy of the cookie
    page = client.get("/")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert client.get("/api/v1/alerts").status_code == 401
    acted = client.post(
        "/api/v1/alerts/1/acknowledge", json={"note": "x"}, headers={"X-CSRF-Token": signed_in}
    )
    assert acted.status_code == 401


def test_a_session_ends_after_idle_time_and_at_its_absolute_lifetime(
    client: TestClient, tokens: dict[str, str], clock: FixedClock
) -> None:
    sign_in(client, tokens["viewer"])
    clock.advance(minutes=31)
    assert client.get("/").status_code == 303, "30 minutes idle ends the session"
    sign_in(client, tokens["viewer"])
    for _ in range(35):  # busy all day: a request every 20 minutes keeps it alive ...
        clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    clock.advance(minutes=20)  # ... until 12 hours after sign-in
    assert client.get("/").status_code == 303


def test_last_use_is_written_at_most_once_a_minute(
    client: TestClient, tokens: dict[str, str], clock: FixedClock, demo: App
) -> None:
    sign_in(client, tokens["viewer"])

    def last_seen() -> str:
        with demo.engine.connect() as conn:
            return str(conn.execute(text("SELECT last_seen_at FROM web_session")).scalar_one())

    first = last_seen()
    clock.advance(seconds=30)
    client.get("/")
    assert last_seen() == first
    clock.advance(seconds=31)
    client.get("/")
    assert last_seen() != first


def test_revoking_a_user_or_resetting_their_token_ends_their_sessions(
    client: TestClient, tokens: dict[str, str], deps: Deps, demo: App
) -> None:
    sign_in(client, tokens["coordinator"])
    accounts.reset_token(deps, "coordinator.one")
    assert client.get("/").status_code == 303
    fresh = accounts.reset_token(deps, "coordinator.one").token
    sign_in(client, fresh)
    accounts.revoke_user(deps, "coordinator.one", by="admin.one")
    assert client.get("/").status_code == 303
    with demo.engine.connect() as conn:
        live = conn.execute(text("SELECT count(*) FROM web_session WHERE revoked_at IS NULL")).scalar_one()
    assert live == 0


def test_an_api_token_may_expire(client: TestClient, deps: Deps, clock: FixedClock) -> None:
    issued = accounts.add_user(deps, "locum", "viewer", expires_in_days=2)
    assert client.get("/api/v1/alerts", headers=bearer(issued.token)).status_code == 200
    clock.advance(days=2)
    refused = client.get("/api/v1/alerts", headers=bearer(issued.token))
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    with pytest.raises(InvalidInput):
        accounts.add_user(deps, "locum2", "viewer", expires_in_days=0)


def test_a_cookie_forged_with_a_secret_naming_a_user_is_refused(
    client: TestClient, tokens: dict[str, str], demo: App
) -> None:
    with demo.engine.connect() as conn:
        admin_id = conn.execute(text("SELECT id FROM app_user WHERE role = 'admin'")).scalar_one()
        stored = conn.execute(
            text("SELECT count(*) FROM app_setting WHERE key = 'session_secret'")
        ).scalar_one()
    assert stored == 0, "the migration removes the stored secret"
    # even with the signing secret itself, a cookie naming a user (or a made-up session) is refused
    for content in ({"user_id": admin_id, "csrf": "x"}, {"sid": "made-up", "csrf": "x"}):
        client.cookies.set(COOKIE, cookie_signed_with("test-secret", content))
        assert client.get("/api/v1/users").status_code == 401
        assert client.get("/").status_code == 303


def test_the_secret_comes_from_the_environment_or_a_file_never_the_database(tmp_path: Path) -> None:
    base = {"PATHWAY_TIMEZONE": "UTC"}
    with pytest.raises(InvalidInput, match=r"secrets.token_urlsafe\(32\)"):
        web_secret(load_settings(base), lambda: False)
    secret, warning = web_secret(load_settings(base), lambda: True)
    assert len(secret) >= 32 and warning and "ephemeral" in warning
    assert web_secret(load_settings({**base, "PATHWAY_SESSION_SECRET": "s" * 40}), lambda: False) == (
        "s" * 40,
        None,
    )
    file = tmp_path / "secret"
    file.write_text("f" * 43 + "\n")
    settings = load_settings({**base, "PATHWAY_SESSION_SECRET_FILE": str(file)})
    assert web_secret(settings, lambda: False) == ("f" * 43, None)
    with pytest.raises(InvalidInput, match="PATHWAY_SESSION_SECRET_FILE"):
        web_secret(
            load_settings({**base, "PATHWAY_SESSION_SECRET_FILE": str(file) + ".missing"}), lambda: False
        )


# --- throttling (item 4) --------------------------------------------------------------------------


def wrong(client: TestClient) -> int:
    return client.get("/api/v1/alerts", headers=bearer("wrong-token")).status_code


def test_the_sixth_wrong_token_is_locked_out_then_let_in_after_the_period(
    client: TestClient, tokens: dict[str, str], clock: FixedClock
) -> None:
    assert [wrong(client), wrong(client)] == [401, 401]  # two free failures
    assert wrong(client) == 401
    assert wrong(client) == 429, "back-off: the next attempt must wait a second"
    for wait in (1, 2):
        clock.advance(seconds=wait)
        assert wrong(client) == 401
    locked = client.get("/api/v1/alerts", headers=bearer(tokens["viewer"]))  # 6th: even the right one
    assert locked.status_code == 429
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    assert locked.headers["content-type"].startswith("application/problem+json")
    clock.advance(minutes=14)
    assert client.get("/api/v1/alerts", headers=bearer(tokens["viewer"])).status_code == 429
    clock.advance(minutes=1)
    assert client.get("/api/v1/alerts", headers=bearer(tokens["viewer"])).status_code == 200
    assert wrong(client) == 401, "a success clears the count"


def test_the_sign_in_form_says_when_it_is_locked(client: TestClient, clock: FixedClock) -> None:
    statuses = []
    for _ in range(6):
        form = client.get("/login")
        answer = client.post("/login", data={"csrf_token": csrf_of(form.text), "token": "nope", "next": "/"})
        statuses.append(answer.status_code)
        clock.advance(seconds=5)
    assert statuses == [401] * 5 + [429]
    assert "too many failed sign-ins" in answer.text and "Retry-After" in answer.headers


def test_a_revoked_accounts_token_counts_against_the_account_too(
    client: TestClient, tokens: dict[str, str], deps: Deps, clock: FixedClock
) -> None:
    accounts.revoke_user(deps, "viewer.one", by="admin.one")
    for _ in range(5):
        assert client.get("/api/v1/alerts", headers=bearer(tokens["viewer"])).status_code == 401
        clock.advance(seconds=10)
    assert client.get("/api/v1/alerts", headers=bearer(tokens["viewer"])).status_code == 429


def test_the_migration_deletes_the_stored_secret(tmp_path: Path) -> None:
    from alembic import command

    from db import migrate
    from db.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = migrate._config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0011")
            conn.execute(
                text(
                    "INSERT INTO app_setting (key, value, created_at) "
                    "VALUES ('session_secret', 's', '2026-01-01')"
                )
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM app_setting")).scalar_one() == 0
        with engine.begin() as conn:  # and the migration goes down and up again
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0014")
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()


def test_trusted_proxies_are_address_ranges() -> None:
    settings = load_settings({"PATHWAY_TIMEZONE": "UTC", "PATHWAY_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8")
    with pytest.raises(InvalidInput, match="PATHWAY_TRUSTED_PROXIES"):
        load_settings({"PATHWAY_TIMEZONE": "UTC", "PATHWAY_TRUSTED_PROXIES": "the proxy"})
