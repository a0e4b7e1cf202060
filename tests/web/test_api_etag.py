"""API convention: a patient's ETag is its version; If-Match on a write answers 412 when stale."""

from __future__ import annotations

import pytest

from tests.web.conftest import TestClient, bearer

PROBLEM = "application/problem+json"
PAIN = {"event": "pain_score", "on": "2026-03-01", "fields": {"nrs": 2}}


def test_the_etag_is_the_version_and_moves_with_each_write(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["coordinator"]
    read = client.get("/api/v1/patients/DEMO-006", headers=bearer(token))
    assert read.headers["etag"] == f'W/"{read.json()["version"]}"'

    written = client.post(
        "/api/v1/patients/DEMO-006/events",
        headers={**bearer(token), "If-Match": read.headers["etag"]},
        json=PAIN,
    )
    assert written.status_code == 201, written.text
    assert written.headers["etag"] == f'W/"{written.json()["version"]}"'
    assert written.json()["version"] == read.json()["version"] + 1
    assert (
        client.get("/api/v1/patients/DEMO-006", headers=bearer(token)).headers["etag"]
        == written.headers["etag"]
    )


@pytest.mark.parametrize("strong", [False, True])
def test_a_stale_if_match_is_412_and_records_nothing(
    client: TestClient, tokens: dict[str, str], strong: bool
) -> None:
    token = tokens["coordinator"]
    stale = client.get("/api/v1/patients/DEMO-006", headers=bearer(token)).json()["version"]
    assert (
        client.post("/api/v1/patients/DEMO-006/events", headers=bearer(token), json=PAIN).status_code == 201
    )
    events = len(client.get("/api/v1/patients/DEMO-006/events?limit=500", headers=bearer(token)).json())

    tag = f'"{stale}"' if strong else f'W/"{stale}"'
    refused = client.post(
        "/api/v1/patients/DEMO-006/events", headers={**bearer(token), "If-Match": tag}, json=PAIN
    )

    assert refused.status_code == 412
    assert refused.headers["content-type"] == PROBLEM
    assert f"not {stale}" in refused.json()["detail"]
    after = client.get("/api/v1/patients/DEMO-006/events?limit=500", headers=bearer(token)).json()
    assert len(after) == events


def test_expected_version_in_the_body_still_answers_409(client: TestClient, tokens: dict[str, str]) -> None:
    token = tokens["coordinator"]
    refused = client.post(
        "/api/v1/patients/DEMO-006/events", headers=bearer(token), json={**PAIN, "expected_version": 1}
    )
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("if_match", "status"), [("*", 201), ("yesterday", 422), ('W/"0"', 422), ('W/"1"', 412)]
)
def test_if_match_forms(client: TestClient, tokens: dict[str, str], if_match: str, status: int) -> None:
    response = client.post(
        "/api/v1/patients/DEMO-006/events",
        headers={**bearer(tokens["coordinator"]), "If-Match": if_match},
        json=PAIN,
    )
    assert response.status_code == status, response.text
    assert status == 201 or response.headers["content-type"] == PROBLEM


def test_if_match_and_expected_version_must_agree(client: TestClient, tokens: dict[str, str]) -> None:
    version = client.get("/api/v1/patients/DEMO-006", headers=bearer(tokens["viewer"])).json()["version"]
    response = client.post(
        "/api/v1/patients/DEMO-006/events",
        headers={**bearer(tokens["coordinator"]), "If-Match": f'W/"{version}"'},
        json={**PAIN, "expected_version": version + 1},
    )
    assert response.status_code == 422
