"""API conventions: RFC 9457 problem details for every error, Location on 201."""

from __future__ import annotations

import pytest

from tests.web.conftest import TestClient, bearer

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "status"),
    [
        ("GET", "/api/v1/patients", None, None, 401),
        ("POST", "/api/v1/patients", {"mrn": "NEW-1"}, "viewer", 403),
        ("GET", "/api/v1/patients/NOBODY-1", None, "viewer", 404),
        ("POST", "/api/v1/patients", {"mrn": "DEMO-001"}, "coordinator", 409),
        ("POST", "/api/v1/patients", {"mrn": "NEW-2", "enrolled_on": "2026-04-01"}, "coordinator", 422),
        ("DELETE", "/api/v1/patients", None, "viewer", 405),
        ("GET", "/api/v1/nowhere", None, "viewer", 404),
    ],
)
def test_every_api_error_is_a_problem_detail_keeping_the_one_line_message(
    client: TestClient,
    tokens: dict[str, str],
    method: str,
    path: str,
    body: dict[str, str] | None,
    role: str | None,
    status: int,
) -> None:
    headers = bearer(tokens[role]) if role else {}
    response = client.request(method, path, json=body, headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status and problem["type"] == "about:blank"
    assert problem["title"] and problem["detail"] == problem["error"]
    assert "\n" not in problem["detail"]


def test_field_errors_are_listed_one_by_one(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/patients",
        headers=bearer(tokens["coordinator"]),
        json={"mrn": "NEW-3", "enrolled_on": "yesterday", "colour": "red"},
    )
    assert response.status_code == 422
    locations = {f["location"] for f in response.json()["errors"]}
    assert locations == {"body.enrolled_on", "body.colour"}
    assert all(f["message"] for f in response.json()["errors"])


def test_a_created_patient_and_event_say_where_they_are(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["coordinator"])
    created = client.post(
        "/api/v1/patients", headers=headers, json={"mrn": "NEW-4", "enrolled_on": "2026-03-01"}
    )
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/patients/NEW-4"
    assert client.get(created.headers["location"], headers=headers).json()["mrn"] == "NEW-4"

    recorded = client.post(
        "/api/v1/patients/NEW-4/events",
        headers=headers,
        json={"event": "neuro_exam", "on": "2026-03-01", "fields": {"finding": "baseline"}},
    )
    assert recorded.status_code == 201, recorded.text
    listed = client.get(recorded.headers["location"], headers=headers).json()
    assert recorded.json()["event"]["id"] in [e["id"] for e in listed]


def test_the_openapi_document_declares_problem_details_for_errors(
    client: TestClient, tokens: dict[str, str]
) -> None:
    document = client.get("/openapi.json", headers=bearer(tokens["viewer"])).json()
    responses = document["paths"]["/api/v1/patients"]["post"]["responses"]
    assert PROBLEM in responses["422"]["content"] and PROBLEM in responses["409"]["content"]
    assert set(document["components"]["schemas"]["Error"]["properties"]) >= {
        "type",
        "title",
        "status",
        "detail",
    }
