"""API convention: `Idempotency-Key` on a POST: a retry returns the first answer, records nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from pathway.bootstrap import App
from tests.fakes import FixedClock
from tests.web.conftest import TestClient, bearer

PROBLEM = "application/problem+json"
PAIN = {"event": "pain_score", "on": "2026-03-01", "fields": {"nrs": 2}}
EVENTS = "/api/v1/patients/DEMO-006/events"


def events(client: TestClient, token: str) -> int:
    return len(client.get(f"{EVENTS}?limit=500", headers=bearer(token)).json())


def test_the_same_key_twice_records_once_and_answers_the_same(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["coordinator"]
    before = events(client, token)
    headers = {**bearer(token), "Idempotency-Key": "retry-1"}

    first = client.post(EVENTS, headers=headers, json=PAIN)
    again = client.post(EVENTS, headers=headers, json=PAIN)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert events(client, token) == before + 1


def test_enrolment_and_alert_actions_are_idempotent_too(client: TestClient, tokens: dict[str, str]) -> None:
    headers = {**bearer(tokens["coordinator"]), "Idempotency-Key": "enrol-NEW-9"}
    first = client.post("/api/v1/patients", headers=headers, json={"mrn": "NEW-9"})
    again = client.post("/api/v1/patients", headers=headers, json={"mrn": "NEW-9"})
    assert first.status_code == again.status_code == 201  # not 409 "already enrolled"
    assert again.json() == first.json()


def test_the_same_key_with_another_body_is_refused(client: TestClient, tokens: dict[str, str]) -> None:
    token = tokens["coordinator"]
    headers = {**bearer(token), "Idempotency-Key": "retry-2"}
    assert client.post(EVENTS, headers=headers, json=PAIN).status_code == 201
    before = events(client, token)

    other = client.post(EVENTS, headers=headers, json={**PAIN, "fields": {"nrs": 7}})

    assert other.status_code == 422
    assert other.headers["content-type"] == PROBLEM
    assert "different request" in other.json()["detail"]
    assert events(client, token) == before


def test_keys_belong_to_one_user(client: TestClient, tokens: dict[str, str]) -> None:
    before = events(client, tokens["viewer"])
    for role in ("coordinator", "clinician"):
        sent = client.post(EVENTS, headers={**bearer(tokens[role]), "Idempotency-Key": "shared"}, json=PAIN)
        assert sent.status_code == 201
    assert events(client, tokens["viewer"]) == before + 2


def test_a_refusal_is_replayed_as_well(client: TestClient, tokens: dict[str, str]) -> None:
    headers = {**bearer(tokens["coordinator"]), "Idempotency-Key": "dup"}
    first = client.post("/api/v1/patients", headers=headers, json={"mrn": "DEMO-001"})
    again = client.post("/api/v1/patients", headers=headers, json={"mrn": "DEMO-001"})
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() and again.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9".encode()])
def test_a_malformed_key_is_refused(client: TestClient, tokens: dict[str, str], key: str | bytes) -> None:
    token = tokens["coordinator"]
    before = events(client, token)
    response = client.post(EVENTS, headers={**bearer(token), "Idempotency-Key": key}, json=PAIN)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert events(client, token) == before


def test_a_key_expires_after_a_day(
    client: TestClient, tokens: dict[str, str], demo: App, clock: FixedClock
) -> None:
    token = tokens["coordinator"]
    headers = {**bearer(token), "Idempotency-Key": "daily"}
    before = events(client, token)
    assert client.post(EVENTS, headers=headers, json=PAIN).status_code == 201
    clock.current += timedelta(hours=24, minutes=1)

    again = client.post(EVENTS, headers=headers, json=PAIN)

    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert events(client, token) == before + 2
    with demo.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM idempotency_key")).scalar_one() == 1
